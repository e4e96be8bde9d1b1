import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadLocalEnvironment } from '../../host/localSettings';
import { ConfigurationError, readSettings, type Settings } from '../../shared/config';
import { serviceBusClient } from '../../shared/messaging/serviceBus';
import { peekDeadLetters, serviceBusPort, type ServiceBusPort } from '../../shared/messaging/deadLetters';
import { messageStores } from '../../shared/operations/messages';
import { INBOUND_QUEUES, type Item } from '../../shared/operations/retryable';
import { busItem, listQuarantined, localItem, MIN_PREFIX, withTimeout } from '../../shared/operations/stores';
import { statusOf } from '../../shared/storage/conditions';
import { describe, table } from './format';
import { TargetUnavailable } from './targets';
import {
  busConfigured,
  checkSource,
  DEFAULT_URL,
  EXIT,
  find,
  NotFound,
  onlyOptions,
  parse,
  UsageError,
  where,
  type Args,
  type Context,
  type Found,
  type Io,
} from './context';
import { replay } from './resubmit';

export type { Io } from './context';

export const HELP = `Usage: npm run replay -- <command> [options]

Brings quarantined and dead-lettered messages back once their cause is fixed
(docs/design.md#nothing-lost-nothing-silent).

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

// ---------------------------------------------------------------- list

async function list(ctx: Context, a: Args): Promise<number> {
  onlyOptions(a, ['source', 'all', 'json']);
  if (a.ids.length) throw new UsageError(`list takes no ids (got ${a.ids.join(' ')}); use show <id>`);
  checkSource(a.source);
  const queue = a.source && (INBOUND_QUEUES as readonly string[]).includes(a.source) ? a.source : undefined;
  const wantDeadLetters = !a.source || queue !== undefined;
  let failed = false;

  const { quarantine, local, bus } = ctx.stores;
  const items: Item[] = (await listQuarantined(quarantine, a.source)).filter((i) => a.all || !i.replayedAt);
  const counts = { quarantine: items.length, local: 0, bus: 0 };
  const notes: string[] = [];
  if (wantDeadLetters) {
    const dead = (await local.rows(queue)).map(localItem);
    counts.local = dead.length;
    items.push(...dead);
  }
  if (wantDeadLetters && bus) {
    for (const q of queue ? [queue] : INBOUND_QUEUES) {
      try {
        const { items: dead, more } = await withTimeout(`peeking the dead letters of ${q}`, peekDeadLetters(bus, q), 30_000);
        counts.bus += dead.length;
        items.push(...dead.map(busItem));
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
    ctx.io.out(
      JSON.stringify(
        items.map(({ body: _body, ...rest }) => rest),
        null,
        2,
      ),
    );
    for (const n of notes) ctx.io.err(`note: ${n}`);
    return failed ? EXIT.failure : EXIT.ok;
  }
  const what = `${a.all ? '' : 'not yet replayed, '}${a.source ? `source ${a.source}` : 'every source'}`;
  if (items.length === 0) ctx.io.out(`Nothing quarantined or dead-lettered (${what}).`);
  else ctx.io.out(table(items));
  const parts = [`${counts.quarantine} quarantined`];
  if (wantDeadLetters) parts.push(`${counts.local} local dead letter${counts.local === 1 ? '' : 's'}`);
  if (wantDeadLetters && bus) parts.push(`${counts.bus} Service Bus dead letter${counts.bus === 1 ? '' : 's'}`);
  ctx.io.out(`\n${items.length} message${items.length === 1 ? '' : 's'} (${what}): ${parts.join(', ')}.`);
  for (const n of notes) ctx.io.out(`Note: ${n}.`);
  if (items.length) ctx.io.out(`Show one: npm run replay -- show <id>. Replay: npm run replay -- replay <id> [--edit fixed.json].`);
  return failed ? EXIT.failure : EXIT.ok;
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
    const settings = readSettings(env);
    const storage = { retryOptions: { maxRetries: 1, retryDelayInMs: 200 } };
    const bus = busConfigured(settings) ? (io.serviceBus ?? defaultServiceBus)(settings) : undefined;
    const user = env.USER ?? env.USERNAME;
    ctx = {
      settings,
      env,
      io,
      stores: messageStores(settings, { storage, bus, now: io.now }),
      by: `replay tool${user ? ` (${user})` : ''}`,
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
    await ctx?.stores.bus?.close().catch(() => {});
  }
}

function defaultServiceBus(s: Settings): ServiceBusPort | undefined {
  const client = serviceBusClient(s);
  return client && serviceBusPort(client);
}
