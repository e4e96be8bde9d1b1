/** `replay`: resubmits chosen messages, each at most once (shared/operations/resubmit.ts does the marking and sending). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { peekDeadLetters } from '../../shared/messaging/deadLetters';
import { retryFound, ServiceBusTarget, type Attempt, type AttemptOptions, type Target } from '../../shared/operations/resubmit';
import { INBOUND_QUEUES } from '../../shared/operations/retryable';
import { busItem, listQuarantined, localItem, withTimeout } from '../../shared/operations/stores';
import { LocalHostTarget } from './targets';
import { checkSource, DEFAULT_URL, EXIT, find, NotFound, onlyOptions, UsageError, type Args, type Context, type Found } from './context';

interface Result {
  id: string;
  outcome: 'replayed' | 'refused' | 'failed';
  message: string;
}

/** The tool's words for a message replayed before: its way round is --force. */
function toResult(a: Attempt): Result {
  if (!a.already) return { id: a.id, outcome: a.outcome, message: a.message };
  return { id: a.id, outcome: a.outcome, message: `already replayed at ${a.already.at}; replaying it a second time needs --force` };
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

export async function replay(ctx: Context, a: Args): Promise<number> {
  const { stores } = ctx;
  onlyOptions(a, ['source', 'all', 'json', 'edit', 'url', 'to', 'force']);
  checkSource(a.source);
  if (a.to !== undefined && a.to !== 'local' && a.to !== 'servicebus')
    throw new UsageError(`--to must be local or servicebus (got "${a.to}")`);
  if (a.all && !a.source) throw new UsageError('replay --all needs --source <s>: replay one source at a time');
  if (a.all && a.ids.length) throw new UsageError('give ids, or --source with --all, not both');
  if (!a.all && a.ids.length === 0) throw new UsageError('replay needs the ids to replay (or --source <s> --all)');
  if (a.source && !a.all) throw new UsageError('--source selects messages only together with --all');
  if (a.edit !== undefined && (a.all || a.ids.length !== 1))
    throw new UsageError('--edit replaces the body of exactly one message: give one id');
  if (a.to === 'servicebus' && a.url !== undefined) throw new UsageError('--url is the local host: it does not go with --to servicebus');

  if (a.to === 'servicebus' && !stores.bus) {
    ctx.io.err(
      'replay: --to servicebus: Service Bus is not configured (set ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace)',
    );
    return EXIT.failure;
  }

  let edit: AttemptOptions['edit'];
  try {
    edit = a.edit === undefined ? undefined : await readEdit(ctx, a.edit);
  } catch (e) {
    if (!(e instanceof EditError)) throw e;
    ctx.io.err(`replay: ${e.message}`);
    return EXIT.failure;
  }

  let target: Promise<Target> | undefined;
  const options: AttemptOptions = {
    force: a.force,
    edit,
    by: ctx.by,
    toolAdvice: true,
    target: () =>
      (target ??= (async () => {
        let t: Target;
        if (a.to === 'servicebus') {
          t = new ServiceBusTarget(stores.bus!);
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
    for (const item of (await listQuarantined(stores.quarantine, a.source)).filter((i) => !i.replayedAt))
      selected.push({ kind: 'quarantine', item });
    const queue = (INBOUND_QUEUES as readonly string[]).includes(a.source!) ? a.source! : undefined;
    if (queue) {
      for (const row of await stores.local.rows(queue)) selected.push({ kind: 'local-dead-letter', item: localItem(row), row });
      if (stores.bus) {
        const { items } = await withTimeout(`peeking the dead letters of ${queue}`, peekDeadLetters(stores.bus, queue), 30_000);
        for (const d of items) selected.push({ kind: 'servicebus-dead-letter', item: busItem(d), queue, sequenceNumber: d.sequenceNumber });
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
    else result = toResult(await retryFound(stores, s, options));
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
