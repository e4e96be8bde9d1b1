/** `replay`: resubmits chosen messages, each at most once. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isPreconditionFailed, isNotFound } from '../../shared/storage/conditions';
import { contractProblem, INBOUND_QUEUES, queueForSource, type Item } from './items';
import { DeadLetterGone, peekDeadLetters, replayServiceBusDeadLetter } from './serviceBus';
import { LocalDeadLetters, type LocalDeadLetterRow } from './stores';
import { LocalHostTarget, ServiceBusTarget, type Target } from './targets';
import {
  checkSource,
  DEFAULT_URL,
  EXIT,
  find,
  NotFound,
  onlyOptions,
  UsageError,
  withTimeout,
  type Args,
  type Context,
  type Found,
} from './context';

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
  if (fresh.replayedAt && !o.force)
    return r('refused', `already replayed at ${fresh.replayedAt}; replaying it a second time needs --force`);
  const queue = queueForSource(fresh.source);
  if (!queue) return r('failed', `no queue takes messages from source ${fresh.source}`);
  if (!o.edit && fresh.rawTruncated)
    return r('refused', 'only the beginning of its body was kept; replay it with --edit <file> holding the whole corrected message');
  const body = o.edit?.text ?? fresh.raw;
  const refusal = bodyRefusal(queue, body, o);
  if (refusal) return r('refused', refusal);

  const target = await o.target();
  let etag: string;
  try {
    etag = await store.markReplayed(fresh.source, fresh.id, fresh.etag, ctx.now());
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e))
      return r('refused', 'it changed while this replay read it (another operator replaying it?); look again with show');
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
    return r(
      'refused',
      `a replay of it started at ${fresh.replayingAt} and did not finish (another operator, or a failed resubmission); check whether it arrived, then use --force`,
    );
  }
  const body = o.edit?.text ?? fresh.body;
  const refusal = bodyRefusal(fresh.queue, body, o);
  if (refusal) return r('refused', refusal);

  const target = await o.target();
  let etag: string;
  try {
    etag = await ctx.local.claim(fresh, ctx.now());
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e))
      return r('refused', 'it changed while this replay read it (another operator replaying it?); look again with show');
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
    return r(
      'failed',
      `${sent}, but it could not be removed from the local dead letters (${(e as Error).message}): do not replay it again`,
    );
  }
  return r('replayed', `${sent}${o.edit ? `, body from ${o.edit.path}` : ''}; removed from the local dead letters`);
}

async function replayBusDeadLetter(ctx: Context, f: Extract<Found, { kind: 'servicebus-dead-letter' }>, o: ReplayOptions): Promise<Result> {
  const r = (outcome: Result['outcome'], message: string): Result => ({ id: f.item.id, outcome, message });
  const refusal = bodyRefusal(f.queue, o.edit?.text ?? f.item.body, o);
  if (refusal) return r('refused', refusal);
  try {
    const { messageId } = await replayServiceBusDeadLetter(ctx.bus!, f, { body: o.edit?.text, now: ctx.now() });
    return r(
      'replayed',
      `Service Bus queue ${f.queue}, message ${messageId}${o.edit ? `, body from ${o.edit.path}` : ''}; dead letter completed`,
    );
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

export async function replay(ctx: Context, a: Args): Promise<number> {
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

  if (a.to === 'servicebus' && !ctx.bus) {
    ctx.io.err(
      'replay: --to servicebus: Service Bus is not configured (set ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace)',
    );
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
        for (const item of items)
          selected.push({ kind: 'servicebus-dead-letter', item, queue, sequenceNumber: String(item.details.sequenceNumber) });
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
