import { randomUUID } from 'node:crypto';
import type { ServiceBusClient, ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import type { Item } from './items';
import { bodyText } from './items';

/**
 * The little of Service Bus the replay tool uses, so the dead-letter procedure
 * can be tested without a namespace. `serviceBusPort` adapts the SDK client.
 */
export interface DeadLetterReceiver {
  /** Browses without locking; each call continues after the last message peeked. */
  peekMessages(maxMessageCount: number): Promise<ServiceBusReceivedMessage[]>;
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

const seq = (m: ServiceBusReceivedMessage) => (m.sequenceNumber === undefined ? '' : m.sequenceNumber.toString());

function toItem(queue: string, m: ServiceBusReceivedMessage): Item {
  const reason = [m.deadLetterReason, m.deadLetterErrorDescription].filter(Boolean).join(': ') || '(no dead-letter reason given)';
  return {
    id: serviceBusDeadLetterId(queue, seq(m)),
    kind: 'servicebus-dead-letter',
    source: queue,
    receivedAt: m.enqueuedTimeUtc ? m.enqueuedTimeUtc.toISOString() : '',
    messageId: m.messageId === undefined ? null : String(m.messageId),
    reason,
    replayedAt: null,
    body: bodyText(m.body),
    bodyTruncated: false,
    details: {
      sequenceNumber: seq(m),
      deliveryCount: m.deliveryCount ?? null,
      deadLetterSource: m.deadLetterSource ?? null,
      contentType: m.contentType ?? null,
      subject: m.subject ?? null,
      applicationProperties: m.applicationProperties ?? {},
    },
  };
}

/** Browses a queue's dead letters (peek: nothing is locked or received). */
export async function peekDeadLetters(port: ServiceBusPort, queue: string, limit = 1000): Promise<{ items: Item[]; more: boolean }> {
  const receiver = port.deadLetterReceiver(queue);
  try {
    const items: Item[] = [];
    while (items.length < limit) {
      const page = await receiver.peekMessages(Math.min(100, limit - items.length));
      if (page.length === 0) return { items, more: false };
      items.push(...page.map((m) => toItem(queue, m)));
    }
    return { items, more: true };
  } finally {
    await receiver.close();
  }
}

export async function findDeadLetter(port: ServiceBusPort, queue: string, sequenceNumber: string): Promise<Item | undefined> {
  const { items } = await peekDeadLetters(port, queue);
  return items.find((i) => i.details.sequenceNumber === sequenceNumber);
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
        `${serviceBusDeadLetterId(target.queue, target.sequenceNumber)} is not in the dead-letter queue of ${target.queue} any more (replayed by someone else, or locked by another replay right now)`,
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
