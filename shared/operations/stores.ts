/** Where retryable messages are kept, and finding one by its id, for the operations API and the replay tool alike. */
import { findDeadLetter, type PeekedDeadLetter, type ServiceBusPort } from '../messaging/deadLetters';
import { isLocalDeadLetterId, type LocalDeadLetterRow, type LocalDeadLetters } from '../messaging/localDeadLetters';
import type { QuarantinedMessage, QuarantineStore } from '../storage/quarantine';
import type { RetryLedger, RetryRecord } from '../storage/retries';
import { isNotFound } from '../storage/conditions';
import { SOURCES, type Item } from './retryable';

/** Shortest id prefix the replay tool accepts in place of a whole id. */
export const MIN_PREFIX = 8;

/** Every store a retry reads or marks. `bus` only when a Service Bus connection is configured. */
export interface MessageStores {
  quarantine: QuarantineStore;
  local: LocalDeadLetters;
  bus: ServiceBusPort | undefined;
  retries: RetryLedger;
  now: () => Date;
}

export function quarantineItem(q: QuarantinedMessage): Item {
  return {
    id: q.id,
    kind: 'quarantine',
    source: q.source,
    receivedAt: q.receivedAt,
    messageId: q.messageId,
    reason: q.reason,
    replayedAt: q.replayedAt,
    replayedBy: q.replayedBy,
    body: q.raw,
    bodyTruncated: q.rawTruncated,
    details: { rawSha256: q.rawSha256 },
  };
}

export function localItem(r: LocalDeadLetterRow): Item {
  const lastError = r.history.at(-1)?.error;
  return {
    id: r.id,
    kind: 'local-dead-letter',
    source: r.queue,
    receivedAt: r.deadLetteredAt,
    messageId: r.messageId || null,
    reason: lastError ? `${r.deadLetterReason}; last error: ${lastError}` : r.deadLetterReason,
    replayedAt: null,
    replayedBy: null,
    body: r.body,
    bodyTruncated: false,
    details: { deliveryCount: r.deliveryCount, enqueuedTimeUtc: r.enqueuedTimeUtc, history: r.history, replayingAt: r.replayingAt },
  };
}

const SB_PREFIX = 'sb:';

/** `sb:<queue>:<sequence number>`: the dead letter's queue and its sequence number in the dead-letter queue. */
export function serviceBusDeadLetterId(queue: string, sequenceNumber: string): string {
  return `${SB_PREFIX}${queue}:${sequenceNumber}`;
}

export function parseServiceBusDeadLetterId(id: string): { queue: string; sequenceNumber: string } | undefined {
  const m = /^sb:([^:]+):(\d+)$/.exec(id);
  return m ? { queue: m[1]!, sequenceNumber: m[2]! } : undefined;
}

export const isServiceBusDeadLetterId = (id: string) => id.startsWith(SB_PREFIX);

export function busItem(d: PeekedDeadLetter): Item {
  const { queue, sequenceNumber, messageId, enqueuedAt, reason, body, ...details } = d;
  return {
    id: serviceBusDeadLetterId(queue, sequenceNumber),
    kind: 'servicebus-dead-letter',
    source: queue,
    receivedAt: enqueuedAt,
    messageId,
    reason,
    replayedAt: null,
    replayedBy: null,
    body,
    bodyTruncated: false,
    details: { sequenceNumber, ...details },
  };
}

/** Every quarantined message, oldest first (the replay tool's listing; the API pages instead). */
export async function listQuarantined(store: QuarantineStore, source?: string): Promise<Item[]> {
  try {
    return (await store.list(source)).map(quarantineItem);
  } catch (e) {
    if (isNotFound(e)) return []; // nothing was ever quarantined
    throw e;
  }
}

/** The quarantined messages whose id is `id` (a point read per source) or, with `prefix`, starts with it. */
async function resolveQuarantined(store: QuarantineStore, id: string, prefix: boolean): Promise<Item[]> {
  const exact = (await Promise.all(SOURCES.map((s) => store.get(s, id)))).filter((q) => q !== undefined).map(quarantineItem);
  if (exact.length || !prefix || id.length < MIN_PREFIX) return exact;
  return (await listQuarantined(store)).filter((i) => i.id.startsWith(id.toLowerCase()));
}

export type Found =
  | { kind: 'quarantine'; item: Item }
  | { kind: 'local-dead-letter'; item: Item; row: LocalDeadLetterRow }
  | { kind: 'servicebus-dead-letter'; item: Item; queue: string; sequenceNumber: string };

/** No message has the id; `retried` says when it was retried, when that is why it is gone. */
export class NotFound extends Error {
  override name = 'NotFound';
  constructor(
    message: string,
    readonly retried?: RetryRecord,
  ) {
    super(message);
  }
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

const retriedText = (r: RetryRecord) => `retried at ${r.retriedAt}${r.retriedBy ? ` by ${r.retriedBy}` : ''}`;

/** One message by its id (or, with `prefix`, a unique prefix of at least MIN_PREFIX characters). */
export async function find(stores: MessageStores, id: string, options: { prefix: boolean }): Promise<Found> {
  if (isServiceBusDeadLetterId(id)) {
    const target = parseServiceBusDeadLetterId(id);
    if (!target) throw new NotFound(`${id}: a Service Bus dead letter id looks like sb:<queue>:<sequence number>`);
    if (!stores.bus)
      throw new NotFound(
        `${id}: Service Bus is not configured (set ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace)`,
      );
    const peeked = await withTimeout(
      `peeking the dead letters of ${target.queue}`,
      findDeadLetter(stores.bus, target.queue, target.sequenceNumber),
      30_000,
    );
    if (!peeked) {
      const retried = await stores.retries.get(id);
      const why = retried ? `it was ${retriedText(retried)}` : 'already retried?';
      throw new NotFound(`${id}: not in the dead-letter queue of ${target.queue} (${why})`, retried);
    }
    return { kind: 'servicebus-dead-letter', item: busItem(peeked), ...target };
  }
  const local = isLocalDeadLetterId(id);
  const candidates: Found[] = local
    ? (await stores.local.resolve(id, options.prefix && id.length >= MIN_PREFIX)).map((row) => ({
        kind: 'local-dead-letter',
        item: localItem(row),
        row,
      }))
    : (await resolveQuarantined(stores.quarantine, id, options.prefix)).map((item) => ({ kind: 'quarantine', item }));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) throw new NotFound(`${id} is ambiguous: ${candidates.map((c) => c.item.id).join(', ')}`);
  const retried = local ? await stores.retries.get(id) : undefined;
  const hint = options.prefix && id.length < MIN_PREFIX ? ` (a shortened id needs at least ${MIN_PREFIX} characters)` : '';
  const gone = retried
    ? ` (it was ${retriedText(retried)}, and a retried local dead letter is removed)`
    : local
      ? ' (a replayed local dead letter is removed)'
      : '';
  throw new NotFound(`no quarantined or dead-lettered message has id ${id}${hint}${gone}`, retried);
}
