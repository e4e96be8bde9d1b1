import { randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { joinText, splitText } from '../storage/largeText';

/**
 * The table rows of the local queues (`localMessages`) and their dead letters
 * (`localDeadLetters`), the local host's stand-in for Service Bus: written and
 * read by the local host (host/localQueues.ts), read and retried by the
 * operations (shared/operations/) and the replay tool. One codec, so they can
 * never disagree on a column.
 */
export interface DeliveryAttempt {
  deliveryCount: number;
  at: string;
  error: string;
}

export interface LocalMessage {
  queue: string;
  rowKey: string;
  etag: string;
  messageId: string;
  body: string;
  deliveryCount: number;
  enqueuedTimeUtc: string;
  history: DeliveryAttempt[];
}

export interface DeadLetter extends LocalMessage {
  deadLetteredAt: string;
  deadLetterReason: string;
}

export type QueueRow = Record<string, unknown> & { partitionKey: string; rowKey: string; etag: string };

/** A message as accepted: not delivered yet, visible at once. */
export function newMessageRow(queue: string, rowKey: string, messageId: string, body: string, enqueuedAt: Date) {
  return {
    partitionKey: queue,
    rowKey,
    messageId,
    deliveryCount: 0,
    enqueuedTimeUtc: enqueuedAt.toISOString(),
    lockedUntil: '',
    history: '[]',
    ...splitText(body),
  };
}

/** Oldest first within a queue: the row key starts with the enqueue time. */
export function messageRowKey(at: Date): string {
  return `${at.getTime().toString().padStart(15, '0')}|${randomUUID()}`;
}

/**
 * Puts a message on a local queue (table `localMessages`); the local host's pump
 * delivers it like any other. Durable once this returns.
 */
export async function enqueueLocal(messages: TableClient, queue: string, body: string, messageId: string, at: Date): Promise<void> {
  await messages.createEntity(newMessageRow(queue, messageRowKey(at), messageId, body, at));
}

/** A local queue's sending side, for code that only puts messages on it (a retry). */
export class LocalQueueWriter {
  constructor(private readonly messages: TableClient) {}

  enqueue(queue: string, body: string, messageId: string, at: Date): Promise<void> {
    return enqueueLocal(this.messages, queue, body, messageId, at);
  }
}

/** The message moved to the dead letters, with every failed delivery it had. */
export function deadLetterRow(m: LocalMessage, history: readonly DeliveryAttempt[], at: Date, reason: string) {
  return {
    partitionKey: m.queue,
    rowKey: m.rowKey,
    messageId: m.messageId,
    deliveryCount: m.deliveryCount,
    enqueuedTimeUtc: m.enqueuedTimeUtc,
    history: JSON.stringify(history),
    deadLetteredAt: at.toISOString(),
    deadLetterReason: reason,
    ...splitText(m.body),
  };
}

function readHistory(row: QueueRow): DeliveryAttempt[] {
  try {
    return JSON.parse(String(row.history ?? '[]')) as DeliveryAttempt[];
  } catch {
    return []; // an unreadable history is shown as none rather than hiding the message
  }
}

export function readMessage(row: QueueRow): LocalMessage {
  return {
    queue: row.partitionKey,
    rowKey: row.rowKey,
    etag: row.etag,
    messageId: String(row.messageId ?? ''),
    body: joinText(row),
    deliveryCount: Number(row.deliveryCount ?? 0),
    enqueuedTimeUtc: String(row.enqueuedTimeUtc ?? ''),
    history: readHistory(row),
  };
}

export function readDeadLetter(row: QueueRow): DeadLetter {
  return { ...readMessage(row), deadLetteredAt: String(row.deadLetteredAt ?? ''), deadLetterReason: String(row.deadLetterReason ?? '') };
}
