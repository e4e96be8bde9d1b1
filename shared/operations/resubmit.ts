/**
 * Resubmitting a quarantined or dead-lettered message, each at most once: the
 * one procedure behind the operations API's retry and the replay tool.
 */
import { randomUUID } from 'node:crypto';
import { DeadLetterGone, replayServiceBusDeadLetter, sendToQueue, type ServiceBusPort } from '../messaging/deadLetters';
import type { LocalDeadLetterRow } from '../messaging/localDeadLetters';
import type { LocalQueueWriter } from '../messaging/localQueueRows';
import { isNotFound, isPreconditionFailed } from '../storage/conditions';
import { contractProblem, queueForSource, type Item } from './retryable';
import type { Found, MessageStores } from './stores';

/** Where a resubmitted message goes. */
export interface Target {
  /** "Service Bus", "local queue", or the replay tool's "local host http://…". */
  readonly name: string;
  /** Fails early, before anything is claimed, when the target cannot take messages. */
  check(): Promise<void>;
  /** Resubmits the body to the queue; returns a description ("Service Bus queue …, message …"). */
  send(queue: string, body: string, replayOf: { id: string; messageId: string | null }, now: Date): Promise<string>;
}

/** The Service Bus queue itself, as a new message (a new MessageId: duplicate detection is on). */
export class ServiceBusTarget implements Target {
  readonly name = 'Service Bus';
  constructor(private readonly port: ServiceBusPort) {}

  async check(): Promise<void> {}

  async send(queue: string, body: string, replayOf: { id: string; messageId: string | null }, now: Date): Promise<string> {
    const messageId = await sendToQueue(this.port, queue, body, replayOf, now);
    return `Service Bus queue ${queue}, message ${messageId}`;
  }
}

/** The local host's queue table (no Service Bus configured): its pump delivers the message like any other. */
export class LocalQueueTarget implements Target {
  readonly name = 'local queue';
  constructor(private readonly queues: LocalQueueWriter) {}

  async check(): Promise<void> {}

  async send(queue: string, body: string, _replayOf: unknown, now: Date): Promise<string> {
    const messageId = `replay-${randomUUID()}`;
    await this.queues.enqueue(queue, body, messageId, now);
    return `local queue ${queue}, message ${messageId}`;
  }
}

export interface Attempt {
  id: string;
  outcome: 'replayed' | 'refused' | 'failed';
  message: string;
  /** Set when refused because it was retried before. */
  already?: { at: string; by: string | null };
}

export interface AttemptOptions {
  /** Retry what was retried already, or a body that still breaks its contract (the replay tool's --force). */
  force: boolean;
  /** A corrected body in place of the kept one (the replay tool's --edit), with where it came from. */
  edit?: { path: string; text: string };
  /** Who retries (kept with the mark). */
  by: string | null;
  /** Resolved once, on the first message that needs it. */
  target: () => Promise<Target>;
  /** Word the advice with the replay tool's options (--edit, --force, show). */
  toolAdvice: boolean;
}

function bodyRefusal(queue: string, body: string, o: AttemptOptions): string | undefined {
  if (o.force) return undefined;
  const problem = contractProblem(queue, body);
  if (!problem) return undefined;
  const what = o.edit ? o.edit.path : 'its body';
  const advice = o.toolAdvice ? '. Correct it with --edit <file> (or send it anyway with --force)' : '; correct the cause first';
  return `${what} would be refused again by the ${queue} contract: ${problem}${advice}`;
}

const changed = (o: AttemptOptions) =>
  o.toolAdvice
    ? 'it changed while this replay read it (another operator replaying it?); look again with show'
    : 'it changed while this retry read it (another operator retrying it?)';

const edited = (o: AttemptOptions) => (o.edit ? `, body from ${o.edit.path}` : '');

export async function retryQuarantined(stores: MessageStores, item: Item, o: AttemptOptions): Promise<Attempt> {
  const r = (outcome: Attempt['outcome'], message: string): Attempt => ({ id: item.id, outcome, message });
  const store = stores.quarantine;
  const fresh = await store.get(item.source, item.id);
  if (!fresh) return r('refused', 'it is no longer in quarantine');
  if (fresh.replayedAt && !o.force) {
    const by = fresh.replayedBy ? ` by ${fresh.replayedBy}` : '';
    return { ...r('refused', `already retried at ${fresh.replayedAt}${by}`), already: { at: fresh.replayedAt, by: fresh.replayedBy } };
  }
  const queue = queueForSource(fresh.source);
  if (!queue) return r('failed', `no queue takes messages from source ${fresh.source}`);
  if (!o.edit && fresh.rawTruncated)
    return r(
      'refused',
      o.toolAdvice
        ? 'only the beginning of its body was kept; replay it with --edit <file> holding the whole corrected message'
        : 'only the beginning of its body was kept: it needs the whole corrected message, through the replay tool (--edit)',
    );
  const body = o.edit?.text ?? fresh.raw;
  const refusal = bodyRefusal(queue, body, o);
  if (refusal) return r('refused', refusal);

  const target = await o.target();
  let etag: string;
  try {
    etag = await store.markReplayed(fresh, fresh.etag, stores.now(), o.by);
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e)) return r('refused', changed(o));
    throw e;
  }
  let sent: string;
  try {
    sent = await target.send(queue, body, { id: fresh.id, messageId: fresh.messageId }, stores.now());
  } catch (e) {
    const undo = await store.clearReplayed(fresh, etag).then(
      () => `the ${o.toolAdvice ? 'replay' : 'retry'} mark was taken back`,
      (u: Error) =>
        `and the ${o.toolAdvice ? 'replay' : 'retry'} mark could not be taken back (${u.message}): ${o.toolAdvice ? 'replay it again with --force' : 'it needs the replay tool with --force'}`,
    );
    return r('failed', `resubmission failed: ${(e as Error).message}; ${undo}`);
  }
  return r('replayed', `${sent}${edited(o)}`);
}

/** Claims the id in the retry ledger; a refusal when it was retried before (unless forced). */
async function claimRetry(stores: MessageStores, id: string, o: AttemptOptions): Promise<Attempt | undefined> {
  if (o.force) {
    await stores.retries.record(id, o.by, stores.now());
    return undefined;
  }
  const earlier = await stores.retries.claim(id, o.by, stores.now());
  if (!earlier) return undefined;
  const by = earlier.retriedBy ? ` by ${earlier.retriedBy}` : '';
  return {
    id,
    outcome: 'refused',
    message: `already retried at ${earlier.retriedAt}${by}`,
    already: { at: earlier.retriedAt, by: earlier.retriedBy },
  };
}

export async function retryLocalDeadLetter(stores: MessageStores, row: LocalDeadLetterRow, o: AttemptOptions): Promise<Attempt> {
  const r = (outcome: Attempt['outcome'], message: string): Attempt => ({ id: row.id, outcome, message });
  const fresh = await stores.local.get(row.queue, row.rowKey);
  if (!fresh) return r('refused', 'it is no longer among the local dead letters (retried by someone else?)');
  if (fresh.replayingAt && !o.force) {
    const advice = o.toolAdvice ? 'check whether it arrived, then use --force' : 'check whether it arrived';
    return r(
      'refused',
      `a retry of it started at ${fresh.replayingAt} and did not finish (another operator, or a failed resubmission); ${advice}`,
    );
  }
  const body = o.edit?.text ?? fresh.body;
  const refusal = bodyRefusal(fresh.queue, body, o);
  if (refusal) return r('refused', refusal);

  const target = await o.target();
  let etag: string;
  try {
    etag = await stores.local.claim(fresh, stores.now());
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e)) return r('refused', changed(o));
    throw e;
  }
  const earlier = await claimRetry(stores, fresh.id, o);
  if (earlier) {
    await stores.local.release(fresh, etag).catch(() => {});
    return earlier;
  }
  let sent: string;
  try {
    sent = await target.send(fresh.queue, body, { id: fresh.id, messageId: fresh.messageId || null }, stores.now());
  } catch (e) {
    await stores.local.release(fresh, etag).catch(() => {});
    await stores.retries.release(fresh.id).catch(() => {});
    return r('failed', `resubmission failed: ${(e as Error).message}`);
  }
  try {
    await stores.local.remove(fresh, etag);
  } catch (e) {
    return r('failed', `${sent}, but it could not be removed from the local dead letters (${(e as Error).message}): do not retry it again`);
  }
  return r('replayed', `${sent}${edited(o)}; removed from the local dead letters`);
}

export async function retryBusDeadLetter(
  stores: MessageStores,
  f: Extract<Found, { kind: 'servicebus-dead-letter' }>,
  o: AttemptOptions,
): Promise<Attempt> {
  const r = (outcome: Attempt['outcome'], message: string): Attempt => ({ id: f.item.id, outcome, message });
  if (!stores.bus) return r('failed', 'Service Bus is not configured');
  const refusal = bodyRefusal(f.queue, o.edit?.text ?? f.item.body, o);
  if (refusal) return r('refused', refusal);
  const earlier = await claimRetry(stores, f.item.id, o);
  if (earlier) return earlier;
  try {
    const { messageId } = await replayServiceBusDeadLetter(stores.bus, f, { body: o.edit?.text, now: stores.now() });
    return r('replayed', `Service Bus queue ${f.queue}, message ${messageId}${edited(o)}; dead letter completed`);
  } catch (e) {
    if (e instanceof DeadLetterGone) {
      await stores.retries.release(f.item.id).catch(() => {});
      return r('refused', `${f.item.id}: ${e.message}`);
    }
    // Sent but not completed keeps its claim: a second send would deliver it twice.
    if ((e as Error).name !== 'DeadLetterNotCompleted') await stores.retries.release(f.item.id).catch(() => {});
    return r('failed', (e as Error).message);
  }
}

/** Retries one message found by `find`, by what holds it. */
export function retryFound(stores: MessageStores, found: Found, o: AttemptOptions): Promise<Attempt> {
  if (found.kind === 'quarantine') return retryQuarantined(stores, found.item, o);
  if (found.kind === 'local-dead-letter') return retryLocalDeadLetter(stores, found.row, o);
  return retryBusDeadLetter(stores, found, o);
}
