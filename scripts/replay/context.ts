/** What the replay commands share: settings and stores, arguments, and finding a message by id. */
import { parseArgs } from 'node:util';
import { type Settings } from '../../shared/config';
import { SOURCES, type Item } from './items';
import { findDeadLetter, isServiceBusDeadLetterId, parseServiceBusDeadLetterId, type ServiceBusPort } from './serviceBus';
import { isLocalDeadLetterId, LocalDeadLetters, MIN_PREFIX, type QuarantineItems, type LocalDeadLetterRow } from './stores';

export interface Io {
  /** One chunk of standard output (a newline is added). */
  out(text: string): void;
  /** One chunk of standard error (a newline is added). */
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Where relative --edit paths are read from. */
  cwd: string;
  fetch?: typeof fetch;
  /** Service Bus access; by default the SDK client from the settings, or none when no connection is configured. */
  serviceBus?: (s: Settings) => ServiceBusPort | undefined;
  now?: () => Date;
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export const DEFAULT_URL = 'http://localhost:7071';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Args {
  command: string | undefined;
  ids: string[];
  source?: string;
  all: boolean;
  json: boolean;
  edit?: string;
  url?: string;
  to?: string;
  force: boolean;
  help: boolean;
}

export function parse(argv: string[]): Args {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        source: { type: 'string' },
        all: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        edit: { type: 'string' },
        url: { type: 'string' },
        to: { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...ids] = positionals;
  return { command, ids, ...values } as Args;
}

export function onlyOptions(a: Args, allowed: (keyof Args)[]): void {
  const given: [keyof Args, boolean][] = [
    ['source', a.source !== undefined],
    ['all', a.all],
    ['json', a.json],
    ['edit', a.edit !== undefined],
    ['url', a.url !== undefined],
    ['to', a.to !== undefined],
    ['force', a.force],
  ];
  for (const [name, present] of given)
    if (present && !allowed.includes(name)) throw new UsageError(`--${name} is not an option of ${a.command}`);
}

export function checkSource(source: string | undefined): void {
  if (source !== undefined && !(SOURCES as readonly string[]).includes(source)) {
    throw new UsageError(`--source must be one of ${SOURCES.join(', ')} (got "${source}")`);
  }
}

export interface Context {
  settings: Settings;
  env: NodeJS.ProcessEnv;
  quarantine: QuarantineItems;
  local: LocalDeadLetters;
  bus: ServiceBusPort | undefined;
  io: Io;
  now: () => Date;
}

export const busConfigured = (s: Settings) => Boolean(s.ServiceBusConnection || s.ServiceBusConnection__fullyQualifiedNamespace);

export function where(ctx: Context, i: Item): string {
  const prefix = ctx.settings.TABLE_PREFIX;
  if (i.kind === 'quarantine') return `quarantine (table ${prefix}quarantine)`;
  if (i.kind === 'local-dead-letter') return `local host dead letters (table ${prefix}localDeadLetters)`;
  return `Service Bus dead-letter queue of ${i.source}`;
}

export async function withTimeout<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms / 1000} s`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- finding one

export type Found =
  | { kind: 'quarantine'; item: Item }
  | { kind: 'local-dead-letter'; item: Item; row: LocalDeadLetterRow }
  | { kind: 'servicebus-dead-letter'; item: Item; queue: string; sequenceNumber: string };

export class NotFound extends Error {}

export async function find(ctx: Context, id: string): Promise<Found> {
  if (isServiceBusDeadLetterId(id)) {
    const target = parseServiceBusDeadLetterId(id);
    if (!target) throw new NotFound(`${id}: a Service Bus dead letter id looks like sb:<queue>:<sequence number>`);
    if (!ctx.bus)
      throw new NotFound(
        `${id}: Service Bus is not configured (set ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace)`,
      );
    const item = await withTimeout(
      `peeking the dead letters of ${target.queue}`,
      findDeadLetter(ctx.bus, target.queue, target.sequenceNumber),
      30_000,
    );
    if (!item) throw new NotFound(`${id}: not in the dead-letter queue of ${target.queue} (already replayed?)`);
    return { kind: 'servicebus-dead-letter', item, ...target };
  }
  const candidates: Found[] = isLocalDeadLetterId(id)
    ? (await ctx.local.resolve(id)).map((row) => ({ kind: 'local-dead-letter', item: LocalDeadLetters.toItem(row), row }))
    : (await ctx.quarantine.resolve(id)).map((item) => ({ kind: 'quarantine', item }));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) throw new NotFound(`${id} is ambiguous: ${candidates.map((c) => c.item.id).join(', ')}`);
  const hint = id.length < MIN_PREFIX ? ` (a shortened id needs at least ${MIN_PREFIX} characters)` : '';
  const gone = isLocalDeadLetterId(id) ? ' (a replayed local dead letter is removed)' : '';
  throw new NotFound(`no quarantined or dead-lettered message has id ${id}${hint}${gone}; npm run replay -- list --all shows them`);
}
