import { randomUUID } from 'node:crypto';
import type { ServiceBusClient, ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import Long from 'long';

/**
 * The little of Service Bus that retrying dead letters uses, so the procedure
 * can be tested without a namespace. `serviceBusPort` adapts the SDK client.
 */
export interface DeadLetterReceiver {
  /** Browses without locking, from a sequence number (or after the last message peeked). */
  peekMessages(maxMessageCount: number, options?: { fromSequenceNumber?: Long }): Promise<ServiceBusReceivedMessage[]>;
  receiveMessages(maxMessageCount: number, options?: { maxWaitTimeInMs?: number }): Promise<ServiceBusReceivedMessage[]>;
  completeMessage(message: ServiceBusReceivedMessage): Promise<void>;
  abandonMessage(message: ServiceBusReceivedMessage): Promise<void>;
  close(): Promise<void>;
}

export interface QueueSender {
  sendMessages(message: ServiceBusMessage): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceBusPort {
  /** A peek-lock receiver on the queue's dead-letter sub-queue. */
  deadLetterReceiver(queue: string): DeadLetterReceiver;
  sender(queue: string): QueueSender;
  close(): Promise<void>;
}

export function serviceBusPort(client: ServiceBusClient): ServiceBusPort {
  return {
    deadLetterReceiver: (queue) => client.createReceiver(queue, { subQueueType: 'deadLetter', receiveMode: 'peekLock' }),
    sender: (queue) => client.createSender(queue),
    close: () => client.close(),
  };
}

/** A dead letter as peeked: nothing is locked. */
export interface PeekedDeadLetter {
  queue: string;
  sequenceNumber: string;
  messageId: string | null;
  enqueuedAt: string;
  reason: string;
  body: string;
  deliveryCount: number | null;
  deadLetterSource: string | null;
  contentType: string | null;
  subject: string | null;
  applicationProperties: Record<string, unknown>;
}

export function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return JSON.stringify(body) ?? String(body);
}

const seq = (m: ServiceBusReceivedMessage) => (m.sequenceNumber === undefined ? '' : m.sequenceNumber.toString());

function peeked(queue: string, m: ServiceBusReceivedMessage): PeekedDeadLetter {
  return {
    queue,
    sequenceNumber: seq(m),
    messageId: m.messageId === undefined ? null : String(m.messageId),
    enqueuedAt: m.enqueuedTimeUtc ? m.enqueuedTimeUtc.toISOString() : '',
    reason: [m.deadLetterReason, m.deadLetterErrorDescription].filter(Boolean).join(': ') || '(no dead-letter reason given)',
    body: bodyText(m.body),
    deliveryCount: m.deliveryCount ?? null,
    deadLetterSource: m.deadLetterSource ?? null,
    contentType: m.contentType ?? null,
    subject: m.subject ?? null,
    applicationProperties: (m.applicationProperties as Record<string, unknown> | undefined) ?? {},
  };
}

/**
 * One page of a queue's dead letters, peeked from a sequence number on (one
 * request: the cost is the page's). `next` is where the following page starts.
 */
export async function peekDeadLetterPage(
  port: ServiceBusPort,
  queue: string,
  max: number,
  fromSequenceNumber?: string,
): Promise<{ items: PeekedDeadLetter[]; next: string | undefined }> {
  const receiver = port.deadLetterReceiver(queue);
  try {
    const options = fromSequenceNumber === undefined ? {} : { fromSequenceNumber: Long.fromString(fromSequenceNumber) };
    const page = await receiver.peekMessages(max, options);
    const items = page.map((m) => peeked(queue, m));
    const last = items.at(-1)?.sequenceNumber;
    return { items, next: items.length < max || !last ? undefined : (BigInt(last) + 1n).toString() };
  } finally {
    await receiver.close();
  }
}

/** Browses a queue's dead letters, up to `limit`. */
export async function peekDeadLetters(
  port: ServiceBusPort,
  queue: string,
  limit = 1000,
): Promise<{ items: PeekedDeadLetter[]; more: boolean }> {
  const items: PeekedDeadLetter[] = [];
  let from: string | undefined;
  while (items.length < limit) {
    const page = await peekDeadLetterPage(port, queue, Math.min(100, limit - items.length), from);
    items.push(...page.items);
    if (page.next === undefined) return { items, more: false };
    from = page.next;
  }
  return { items, more: true };
}

/** One dead letter by its sequence number (a single peek), or undefined once it is gone. */
export async function findDeadLetter(port: ServiceBusPort, queue: string, sequenceNumber: string): Promise<PeekedDeadLetter | undefined> {
  const { items } = await peekDeadLetterPage(port, queue, 1, sequenceNumber);
  return items[0]?.sequenceNumber === sequenceNumber ? items[0] : undefined;
}

export class DeadLetterGone extends Error {
  override name = 'DeadLetterGone';
}

export class DeadLetterNotCompleted extends Error {
  override name = 'DeadLetterNotCompleted';
}

/**
 * Replays one Service Bus dead letter: receives it from the dead-letter queue in
 * peek-lock (the lock keeps a second operator off it), sends it to the main queue
 * as a new message (a new MessageId, or duplicate detection would drop it), and
 * only then completes it. A failed send abandons it, so it stays dead-lettered.
 * Other dead letters received on the way are abandoned (they stay where they are).
 */
export async function replayServiceBusDeadLetter(
  port: ServiceBusPort,
  target: { queue: string; sequenceNumber: string },
  options: { body?: string; now: Date; maxScan?: number },
): Promise<{ messageId: string }> {
  const receiver = port.deadLetterReceiver(target.queue);
  const sender = port.sender(target.queue);
  const passedOver: ServiceBusReceivedMessage[] = [];
  try {
    let found: ServiceBusReceivedMessage | undefined;
    const maxScan = options.maxScan ?? 5000;
    while (!found && passedOver.length < maxScan) {
      const batch = await receiver.receiveMessages(100, { maxWaitTimeInMs: 2000 });
      if (batch.length === 0) break;
      for (const m of batch) {
        if (!found && seq(m) === target.sequenceNumber) found = m;
        else passedOver.push(m);
      }
    }
    if (!found) {
      throw new DeadLetterGone(
        `dead letter ${target.sequenceNumber} is not in the dead-letter queue of ${target.queue} any more (replayed by someone else, or locked by another replay right now)`,
      );
    }
    const messageId = `replay-${randomUUID()}`;
    const edited = options.body !== undefined;
    const message: ServiceBusMessage = {
      body: edited ? Buffer.from(options.body!, 'utf8') : found.body,
      messageId,
      contentType: edited ? 'application/json' : found.contentType,
      subject: found.subject,
      correlationId: found.correlationId,
      applicationProperties: {
        ...(found.applicationProperties ?? {}),
        replayOf: found.messageId === undefined ? '' : String(found.messageId),
        replayedFrom: `${target.queue}/$deadletterqueue#${target.sequenceNumber}`,
        replayedAt: options.now.toISOString(),
        replayEdited: edited,
      },
    };
    try {
      await sender.sendMessages(message);
    } catch (e) {
      await receiver.abandonMessage(found).catch(() => {});
      throw e;
    }
    try {
      await receiver.completeMessage(found);
    } catch (e) {
      throw new DeadLetterNotCompleted(
        `sent again as message ${messageId}, but the dead letter could not be completed (${(e as Error).message}): it is still in the dead-letter queue; do not replay it again`,
        { cause: e },
      );
    }
    return { messageId };
  } finally {
    await Promise.all(passedOver.map((m) => receiver.abandonMessage(m).catch(() => {})));
    await sender.close().catch(() => {});
    await receiver.close().catch(() => {});
  }
}

/** Sends a (quarantined or local) message body to a Service Bus queue as a new message. */
export async function sendToQueue(
  port: ServiceBusPort,
  queue: string,
  body: string,
  replayOf: { id: string; messageId: string | null },
  now: Date,
): Promise<string> {
  const sender = port.sender(queue);
  const messageId = `replay-${randomUUID()}`;
  try {
    await sender.sendMessages({
      body: Buffer.from(body, 'utf8'),
      messageId,
      contentType: 'application/json',
      applicationProperties: { replayOf: replayOf.messageId ?? '', replayedFrom: replayOf.id, replayedAt: now.toISOString() },
    });
  } finally {
    await sender.close().catch(() => {});
  }
  return messageId;
}
