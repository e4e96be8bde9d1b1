import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadLocalEnvironment } from '../../host/localSettings';
import { ConfigurationError, readSettings, type Settings } from '../../shared/config';
import { serviceBusClient } from '../../shared/messaging/serviceBus';
import { isPreconditionFailed, isNotFound, statusOf } from '../../shared/storage/conditions';
import { QuarantineStore } from '../../shared/storage/quarantine';
import { tableClient } from '../../shared/storage/tables';
import { describe, table } from './format';
import { contractProblem, INBOUND_QUEUES, queueForSource, SOURCES, type Item } from './items';
import {
  DeadLetterGone,
  findDeadLetter,
  isServiceBusDeadLetterId,
  parseServiceBusDeadLetterId,
  peekDeadLetters,
  replayServiceBusDeadLetter,
  serviceBusPort,
  type ServiceBusPort,
} from './serviceBus';
import { isLocalDeadLetterId, LocalDeadLetters, MIN_PREFIX, QuarantineItems, type LocalDeadLetterRow } from './stores';
import { LocalHostTarget, ServiceBusTarget, TargetUnavailable, type Target } from './targets';

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

class UsageError extends Error {
  override name = 'UsageError';
}

export const HELP = `Usage: npm run replay -- <command> [options]

Brings quarantined and dead-lettered messages back once their cause is fixed
(DESIGN.md §3 "Nothing lost, nothing silent").

Commands
  list [--source <s>] [--all] [--json]
      Quarantined messages not yet replayed (--all: replayed ones too), the
      local host's dead letters, and, when a Service Bus connection is
      configured, the queues' dead letters (peeked: nothing is locked).
  show <id> [--json]
      One message whole: reason, metadata, and the body (pretty-printed JSON).
  replay <id...> [--edit <file>] [--to local|servicebus] [--url <url>] [--force]
  replay --source <s> --all [--to local|servicebus] [--url <url>] [--force]
      Resubmits the messages and marks them replayed (with the ETag read, so
      two operators cannot replay one message twice). Local dead letters are
      removed once resubmitted. Service Bus dead letters are received from the
      dead-letter queue, sent again to their queue and then completed.

Options
  --source <s>   project-invoice-proposals, project-actuals or import-from-staging
  --all          list: include replayed messages; replay: every message of --source
  --edit <file>  replace the body with this corrected JSON file (one id only)
  --to <where>   local (default): the local host's admin call,
                 POST <url>/admin/functions/{syncInvoiceProposal|syncActuals};
                 servicebus: a new message on the Service Bus queue.
                 Service Bus dead letters always go back to their Service Bus queue.
  --url <url>    the local host (default ${DEFAULT_URL}); LOCAL_FUNCTION_KEY is
                 sent as x-functions-key
  --force        replay a message already replayed, or one whose body still
                 breaks its contract
  --json         machine-readable output
  -h, --help     this text

Ids may be shortened to a unique prefix of ${MIN_PREFIX} or more characters.
Sources map to functions: project-invoice-proposals → syncInvoiceProposal,
project-actuals → syncActuals, import-from-staging (an actual refused after its
proposal was posted) → syncActuals.

Settings come from the environment, then local.settings.json, then
local.settings.sample.json: AzureWebJobsStorage, TABLE_PREFIX,
ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace.

Exit codes: 0 ok, 1 failure (a message refused or a resubmission failed), 2 usage error.`;

/** The repository root (scripts/ when run with tsx, dist/scripts/ when compiled). */
function repoRoot(): string {
  for (const dir of [join(__dirname, '..', '..'), join(__dirname, '..', '..', '..')]) if (existsSync(join(dir, 'host.json'))) return dir;
  return process.cwd();
}

interface Args {
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

function parse(argv: string[]): Args {
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

function onlyOptions(a: Args, allowed: (keyof Args)[]): void {
  const given: [keyof Args, boolean][] = [
    ['source', a.source !== undefined],
    ['all', a.all],
    ['json', a.json],
    ['edit', a.edit !== undefined],
    ['url', a.url !== undefined],
    ['to', a.to !== undefined],
    ['force', a.force],
  ];
  for (const [name, present] of given) if (present && !allowed.includes(name)) throw new UsageError(`--${name} is not an option of ${a.command}`);
}

function checkSource(source: string | undefined): void {
  if (source !== undefined && !(SOURCES as readonly string[]).includes(source)) {
    throw new UsageError(`--source must be one of ${SOURCES.join(', ')} (got "${source}")`);
  }
}

interface Context {
  settings: Settings;
  env: NodeJS.ProcessEnv;
  quarantine: QuarantineItems;
  local: LocalDeadLetters;
  bus: ServiceBusPort | undefined;
  io: Io;
  now: () => Date;
}

const busConfigured = (s: Settings) => Boolean(s.ServiceBusConnection || s.ServiceBusConnection__fullyQualifiedNamespace);

function where(ctx: Context, i: Item): string {
  const prefix = ctx.settings.TABLE_PREFIX;
  if (i.kind === 'quarantine') return `quarantine (table ${prefix}quarantine)`;
  if (i.kind === 'local-dead-letter') return `local host dead letters (table ${prefix}localDeadLetters)`;
  return `Service Bus dead-letter queue of ${i.source}`;
}

async function withTimeout<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- list

async function list(ctx: Context, a: Args): Promise<number> {
  onlyOptions(a, ['source', 'all', 'json']);
  if (a.ids.length) throw new UsageError(`list takes no ids (got ${a.ids.join(' ')}); use show <id>`);
  checkSource(a.source);
  const queue = a.source && (INBOUND_QUEUES as readonly string[]).includes(a.source) ? a.source : undefined;
  const wantDeadLetters = !a.source || queue !== undefined;
  let failed = false;

  const items: Item[] = (await ctx.quarantine.list(a.source)).filter((i) => a.all || !i.replayedAt);
  const counts = { quarantine: items.length, local: 0, bus: 0 };
  const notes: string[] = [];
  if (wantDeadLetters) {
    const local = await ctx.local.list(queue);
    counts.local = local.length;
    items.push(...local);
  }
  if (wantDeadLetters && ctx.bus) {
    for (const q of queue ? [queue] : INBOUND_QUEUES) {
      try {
        const { items: dead, more } = await withTimeout(`peeking the dead letters of ${q}`, peekDeadLetters(ctx.bus, q), 30_000);
        counts.bus += dead.length;
        items.push(...dead);
        if (more) notes.push(`the dead-letter queue of ${q} holds more than the ${dead.length} listed`);
      } catch (e) {
        failed = true;
        ctx.io.err(`replay list: could not read the Service Bus dead letters of ${q}: ${(e as Error).message}`);
      }
    }
  } else if (wantDeadLetters) {
    notes.push('Service Bus dead letters: not looked at (no ServiceBusConnection configured)');
  }
  items.sort((x, y) => x.receivedAt.localeCompare(y.receivedAt) || x.id.localeCompare(y.id));

  if (a.json) {
    ctx.io.out(JSON.stringify(items.map(({ body: _body, ...rest }) => rest), null, 2));
    for (const n of notes) ctx.io.err(`note: ${n}`);
    return failed ? EXIT.failure : EXIT.ok;
  }
  const what = `${a.all ? '' : 'not yet replayed, '}${a.source ? `source ${a.source}` : 'every source'}`;
  if (items.length === 0) ctx.io.out(`Nothing quarantined or dead-lettered (${what}).`);
  else ctx.io.out(table(items));
  const parts = [`${counts.quarantine} quarantined`];
  if (wantDeadLetters) parts.push(`${counts.local} local dead letter${counts.local === 1 ? '' : 's'}`);
  if (wantDeadLetters && ctx.bus) parts.push(`${counts.bus} Service Bus dead letter${counts.bus === 1 ? '' : 's'}`);
  ctx.io.out(`\n${items.length} message${items.length === 1 ? '' : 's'} (${what}): ${parts.join(', ')}.`);
  for (const n of notes) ctx.io.out(`Note: ${n}.`);
  if (items.length) ctx.io.out(`Show one: npm run replay -- show <id>. Replay: npm run replay -- replay <id> [--edit fixed.json].`);
  return failed ? EXIT.failure : EXIT.ok;
}

// ---------------------------------------------------------------- finding one

type Found =
  | { kind: 'quarantine'; item: Item }
  | { kind: 'local-dead-letter'; item: Item; row: LocalDeadLetterRow }
  | { kind: 'servicebus-dead-letter'; item: Item; queue: string; sequenceNumber: string };

class NotFound extends Error {}

async function find(ctx: Context, id: string): Promise<Found> {
  if (isServiceBusDeadLetterId(id)) {
    const target = parseServiceBusDeadLetterId(id);
    if (!target) throw new NotFound(`${id}: a Service Bus dead letter id looks like sb:<queue>:<sequence number>`);
    if (!ctx.bus) throw new NotFound(`${id}: Service Bus is not configured (set ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace)`);
    const item = await withTimeout(`peeking the dead letters of ${target.queue}`, findDeadLetter(ctx.bus, target.queue, target.sequenceNumber), 30_000);
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

// ---------------------------------------------------------------- show

async function show(ctx: Context, a: Args): Promise<number> {
  onlyOptions(a, ['json']);
  if (a.ids.length !== 1) throw new UsageError('show takes exactly one id');
  let found: Found;
  try {
    found = await find(ctx, a.ids[0]!);
  } catch (e) {
    if (!(e instanceof NotFound)) throw e;
    ctx.io.err(`replay show: ${e.message}`);
    return EXIT.failure;
  }
  if (a.json) ctx.io.out(JSON.stringify({ ...found.item, where: where(ctx, found.item) }, null, 2));
  else ctx.io.out(describe(found.item, where(ctx, found.item)));
  return EXIT.ok;
}

// ---------------------------------------------------------------- replay

interface Result {
  id: string;
  outcome: 'replayed' | 'refused' | 'failed';
  message: string;
}

interface ReplayOptions {
  force: boolean;
  edit?: { path: string; text: string };
  target: () => Promise<Target>;
}

function bodyRefusal(queue: string, body: string, o: ReplayOptions): string | undefined {
  if (o.force) return undefined;
  const problem = contractProblem(queue, body);
  if (!problem) return undefined;
  const what = o.edit ? o.edit.path : 'its body';
  return `${what} would be refused again by the ${queue} contract: ${problem}. Correct it with --edit <file> (or send it anyway with --force)`;
}

async function replayQuarantined(ctx: Context, item: Item, o: ReplayOptions): Promise<Result> {
  const r = (outcome: Result['outcome'], message: string): Result => ({ id: item.id, outcome, message });
  const store = ctx.quarantine.store;
  const fresh = await store.get(item.source, item.id);
  if (!fresh) return r('refused', 'it is no longer in quarantine');
  if (fresh.replayedAt && !o.force) return r('refused', `already replayed at ${fresh.replayedAt}; replaying it a second time needs --force`);
  const queue = queueForSource(fresh.source);
  if (!queue) return r('failed', `no queue takes messages from source ${fresh.source}`);
  if (!o.edit && fresh.rawTruncated) return r('refused', 'only the beginning of its body was kept; replay it with --edit <file> holding the whole corrected message');
  const body = o.edit?.text ?? fresh.raw;
  const refusal = bodyRefusal(queue, body, o);
  if (refusal) return r('refused', refusal);

  const target = await o.target();
  let etag: string;
  try {
    etag = await store.markReplayed(fresh.source, fresh.id, fresh.etag, ctx.now());
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e)) return r('refused', 'it changed while this replay read it (another operator replaying it?); look again with show');
    throw e;
  }
  let sent: string;
  try {
    sent = await target.send(queue, body, { id: fresh.id, messageId: fresh.messageId }, ctx.now());
  } catch (e) {
    const undo = await store.clearReplayed(fresh.source, fresh.id, etag).then(
      () => 'the replay mark was taken back',
      (u: Error) => `and the replay mark could not be taken back (${u.message}): replay it again with --force`,
    );
    return r('failed', `resubmission failed: ${(e as Error).message}; ${undo}`);
  }
  return r('replayed', `${sent}${o.edit ? `, body from ${o.edit.path}` : ''}`);
}

async function replayLocalDeadLetter(ctx: Context, row: LocalDeadLetterRow, o: ReplayOptions): Promise<Result> {
  const r = (outcome: Result['outcome'], message: string): Result => ({ id: row.id, outcome, message });
  const fresh = await ctx.local.get(row.queue, row.rowKey);
  if (!fresh) return r('refused', 'it is no longer among the local dead letters (replayed by someone else?)');
  if (fresh.replayingAt && !o.force) {
    return r('refused', `a replay of it started at ${fresh.replayingAt} and did not finish (another operator, or a failed resubmission); check whether it arrived, then use --force`);
  }
  const body = o.edit?.text ?? fresh.body;
  const refusal = bodyRefusal(fresh.queue, body, o);
  if (refusal) return r('refused', refusal);

  const target = await o.target();
  let etag: string;
  try {
    etag = await ctx.local.claim(fresh, ctx.now());
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e)) return r('refused', 'it changed while this replay read it (another operator replaying it?); look again with show');
    throw e;
  }
  let sent: string;
  try {
    sent = await target.send(fresh.queue, body, { id: fresh.id, messageId: fresh.messageId || null }, ctx.now());
  } catch (e) {
    await ctx.local.release(fresh, etag).catch(() => {});
    return r('failed', `resubmission failed: ${(e as Error).message}`);
  }
  try {
    await ctx.local.remove(fresh, etag);
  } catch (e) {
    return r('failed', `${sent}, but it could not be removed from the local dead letters (${(e as Error).message}): do not replay it again`);
  }
  return r('replayed', `${sent}${o.edit ? `, body from ${o.edit.path}` : ''}; removed from the local dead letters`);
}

async function replayBusDeadLetter(ctx: Context, f: Extract<Found, { kind: 'servicebus-dead-letter' }>, o: ReplayOptions): Promise<Result> {
  const r = (outcome: Result['outcome'], message: string): Result => ({ id: f.item.id, outcome, message });
  const refusal = bodyRefusal(f.queue, o.edit?.text ?? f.item.body, o);
  if (refusal) return r('refused', refusal);
  try {
    const { messageId } = await replayServiceBusDeadLetter(ctx.bus!, f, { body: o.edit?.text, now: ctx.now() });
    return r('replayed', `Service Bus queue ${f.queue}, message ${messageId}${o.edit ? `, body from ${o.edit.path}` : ''}; dead letter completed`);
  } catch (e) {
    if (e instanceof DeadLetterGone) return r('refused', e.message);
    return r('failed', (e as Error).message);
  }
}

async function readEdit(ctx: Context, file: string): Promise<{ path: string; text: string }> {
  let text: string;
  try {
    text = await readFile(resolve(ctx.io.cwd, file), 'utf8');
  } catch (e) {
    throw new EditError(`--edit ${file}: cannot read it (${(e as Error).message})`);
  }
  try {
    JSON.parse(text);
  } catch (e) {
    throw new EditError(`--edit ${file}: is not valid JSON (${(e as Error).message})`);
  }
  return { path: file, text };
}

class EditError extends Error {}

async function replay(ctx: Context, a: Args): Promise<number> {
  onlyOptions(a, ['source', 'all', 'json', 'edit', 'url', 'to', 'force']);
  checkSource(a.source);
  if (a.to !== undefined && a.to !== 'local' && a.to !== 'servicebus') throw new UsageError(`--to must be local or servicebus (got "${a.to}")`);
  if (a.all && !a.source) throw new UsageError('replay --all needs --source <s>: replay one source at a time');
  if (a.all && a.ids.length) throw new UsageError('give ids, or --source with --all, not both');
  if (!a.all && a.ids.length === 0) throw new UsageError('replay needs the ids to replay (or --source <s> --all)');
  if (a.source && !a.all) throw new UsageError('--source selects messages only together with --all');
  if (a.edit !== undefined && (a.all || a.ids.length !== 1)) throw new UsageError('--edit replaces the body of exactly one message: give one id');
  if (a.to === 'servicebus' && a.url !== undefined) throw new UsageError('--url is the local host: it does not go with --to servicebus');

  if (a.to === 'servicebus' && !ctx.bus) {
    ctx.io.err('replay: --to servicebus: Service Bus is not configured (set ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace)');
    return EXIT.failure;
  }

  let edit: ReplayOptions['edit'];
  try {
    edit = a.edit === undefined ? undefined : await readEdit(ctx, a.edit);
  } catch (e) {
    if (!(e instanceof EditError)) throw e;
    ctx.io.err(`replay: ${e.message}`);
    return EXIT.failure;
  }

  let target: Promise<Target> | undefined;
  const options: ReplayOptions = {
    force: a.force,
    edit,
    target: () =>
      (target ??= (async () => {
        let t: Target;
        if (a.to === 'servicebus') {
          t = new ServiceBusTarget(ctx.bus!);
        } else {
          t = new LocalHostTarget(a.url ?? DEFAULT_URL, ctx.env.LOCAL_FUNCTION_KEY, ctx.io.fetch);
        }
        await t.check();
        return t;
      })()),
  };

  // What to replay: the ids given, or every not-yet-replayed message of the source.
  const selected: (Found | Result)[] = [];
  if (a.all) {
    for (const item of (await ctx.quarantine.list(a.source)).filter((i) => !i.replayedAt)) selected.push({ kind: 'quarantine', item });
    const queue = (INBOUND_QUEUES as readonly string[]).includes(a.source!) ? a.source! : undefined;
    if (queue) {
      for (const row of await ctx.local.rows(queue)) selected.push({ kind: 'local-dead-letter', item: LocalDeadLetters.toItem(row), row });
      if (ctx.bus) {
        const { items } = await withTimeout(`peeking the dead letters of ${queue}`, peekDeadLetters(ctx.bus, queue), 30_000);
        for (const item of items) selected.push({ kind: 'servicebus-dead-letter', item, queue, sequenceNumber: String(item.details.sequenceNumber) });
      }
    }
    if (selected.length === 0) {
      ctx.io.out(a.json ? '[]' : `Nothing to replay from ${a.source}.`);
      return EXIT.ok;
    }
  } else {
    for (const id of a.ids) {
      try {
        selected.push(await find(ctx, id));
      } catch (e) {
        if (!(e instanceof NotFound)) throw e;
        selected.push({ id, outcome: 'refused', message: e.message });
      }
    }
  }

  const results: Result[] = [];
  for (const s of selected) {
    let result: Result;
    if ('outcome' in s) result = s;
    else if (s.kind === 'quarantine') result = await replayQuarantined(ctx, s.item, options);
    else if (s.kind === 'local-dead-letter') result = await replayLocalDeadLetter(ctx, s.row, options);
    else result = await replayBusDeadLetter(ctx, s, options);
    results.push(result);
    if (!a.json) {
      const line = `${result.outcome.padEnd(8)} ${result.id}: ${result.message}`;
      if (result.outcome === 'replayed') ctx.io.out(line);
      else ctx.io.err(line);
    }
  }
  const count = (o: Result['outcome']) => results.filter((r) => r.outcome === o).length;
  if (a.json) ctx.io.out(JSON.stringify(results, null, 2));
  else ctx.io.out(`${count('replayed')} replayed, ${count('refused')} refused, ${count('failed')} failed.`);
  return results.every((r) => r.outcome === 'replayed') ? EXIT.ok : EXIT.failure;
}

// ---------------------------------------------------------------- main

function explain(e: unknown): string {
  const err = e as Error & { code?: string; request?: { url?: string } };
  const code = err?.code ?? (err?.cause as { code?: string } | undefined)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
    const url = err.request?.url ? new URL(err.request.url).origin : 'the configured endpoint';
    return `storage is not reachable at ${url} (${code}): is Azurite running (npm start starts it), and is AzureWebJobsStorage right?`;
  }
  const status = statusOf(e);
  return status ? `${err.message} (HTTP ${status})` : (err?.message ?? String(e));
}

export async function main(argv: string[], io: Io): Promise<number> {
  let a: Args;
  try {
    a = parse(argv);
  } catch (e) {
    io.err(`replay: ${(e as Error).message}\nRun npm run replay -- --help for usage.`);
    return EXIT.usage;
  }
  if (a.help || a.command === 'help') {
    io.out(HELP);
    return EXIT.ok;
  }
  if (!a.command) {
    io.err(HELP);
    return EXIT.usage;
  }
  const commands: Record<string, (ctx: Context, a: Args) => Promise<number>> = { list, show, replay };
  const command = Object.hasOwn(commands, a.command) ? commands[a.command] : undefined;
  if (!command) {
    io.err(`replay: unknown command "${a.command}": use list, show or replay.\nRun npm run replay -- --help for usage.`);
    return EXIT.usage;
  }

  let ctx: Context | undefined;
  try {
    const env = loadLocalEnvironment(repoRoot(), io.env);
    const settings = readSettings(env, { requirePostingSecret: false }); // replay never verifies a posting
    const storage = { retryOptions: { maxRetries: 1, retryDelayInMs: 200 } };
    const bus = busConfigured(settings) ? (io.serviceBus ?? defaultServiceBus)(settings) : undefined;
    ctx = {
      settings,
      env,
      io,
      bus,
      quarantine: new QuarantineItems(new QuarantineStore(tableClient(settings, 'quarantine', storage))),
      local: new LocalDeadLetters(tableClient(settings, 'localDeadLetters', storage)),
      now: io.now ?? (() => new Date()),
    };
    return await command(ctx, a);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`replay ${a.command}: ${e.message}\nRun npm run replay -- --help for usage.`);
      return EXIT.usage;
    }
    if (e instanceof ConfigurationError || e instanceof TargetUnavailable) io.err(`replay ${a.command}: ${e.message}`);
    else io.err(`replay ${a.command}: ${explain(e)}`);
    return EXIT.failure;
  } finally {
    await ctx?.bus?.close().catch(() => {});
  }
}

function defaultServiceBus(s: Settings): ServiceBusPort | undefined {
  const client = serviceBusClient(s);
  return client && serviceBusPort(client);
}
