/** What the replay commands share: settings and stores, arguments, and finding a message by id. */
import { parseArgs } from 'node:util';
import { type Settings } from '../../shared/config';
import type { ServiceBusPort } from '../../shared/messaging/deadLetters';
import { SOURCES, type Item } from '../../shared/operations/retryable';
import { find as findMessage, NotFound, type Found, type MessageStores } from '../../shared/operations/stores';

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
  /** The operations' own stores: finding, marking and resubmitting are theirs (shared/operations/). */
  stores: MessageStores;
  /** Who replays, kept with the replay mark: the operating-system user. */
  by: string;
  io: Io;
}

export const busConfigured = (s: Settings) => Boolean(s.ServiceBusConnection || s.ServiceBusConnection__fullyQualifiedNamespace);

export function where(ctx: Context, i: Item): string {
  const prefix = ctx.settings.TABLE_PREFIX;
  if (i.kind === 'quarantine') return `quarantine (table ${prefix}quarantine)`;
  if (i.kind === 'local-dead-letter') return `local host dead letters (table ${prefix}localDeadLetters)`;
  return `Service Bus dead-letter queue of ${i.source}`;
}

// ---------------------------------------------------------------- finding one

export { NotFound, type Found } from '../../shared/operations/stores';

/** One message by its id or a unique prefix of it. */
export async function find(ctx: Context, id: string): Promise<Found> {
  try {
    return await findMessage(ctx.stores, id, { prefix: true });
  } catch (e) {
    if (e instanceof NotFound && e.message.startsWith('no quarantined'))
      throw new NotFound(`${e.message}; npm run replay -- list --all shows them`, e.retried);
    throw e;
  }
}
