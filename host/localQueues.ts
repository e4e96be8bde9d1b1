import { randomUUID } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { createIfAbsent, isNotFound, isPreconditionFailed } from '../shared/storage/conditions';
import {
  deadLetterRow,
  enqueueLocal,
  newMessageRow,
  readDeadLetter,
  readMessage,
  type DeadLetter,
  type LocalMessage,
  type QueueRow,
} from '../shared/messaging/localQueueRows';

/**
 * Service Bus semantics without a namespace: each queue is a partition of a
 * table, so an accepted message is durable before the admin call answers 202.
 * A delivery takes a lock (deliveryCount + 1, written with the row's ETag, so a
 * crash still counts it); success deletes the message, failure releases it for
 * redelivery, and the last allowed failure moves it, with its delivery history,
 * to the dead-letter table. The row format is in shared/messaging/localQueueRows.ts.
 */
export class LocalQueues {
  constructor(
    private readonly messages: TableClient,
    private readonly deadLetters: TableClient,
    private readonly options: { maxDeliveryCount: number; lockMs: number; redeliveryDelayMs: number; now?: () => Date },
  ) {}

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  async enqueue(queue: string, body: string, messageId: string = randomUUID()): Promise<string> {
    await enqueueLocal(this.messages, queue, body, messageId, this.now());
    return messageId;
  }

  /**
   * A scheduled message, as Service Bus's scheduleMessages on a queue with duplicate detection: invisible
   * until `at`, and the same message id for the same time accepted once while it is pending. Returns whether it was new.
   */
  async schedule(queue: string, body: string, messageId: string, at: Date): Promise<boolean> {
    const rowKey = `${at.getTime().toString().padStart(15, '0')}|${messageId}`;
    const row = { ...newMessageRow(queue, rowKey, messageId, body, this.now()), lockedUntil: at.toISOString() };
    return createIfAbsent(() => this.messages.createEntity(row));
  }

  /** Locks up to `max` visible messages for delivery, oldest first. */
  async receive(queue: string, max: number): Promise<LocalMessage[]> {
    if (max <= 0) return [];
    const now = this.now();
    const filter = odata`PartitionKey eq ${queue} and lockedUntil lt ${now.toISOString()}`;
    const locked: LocalMessage[] = [];
    for await (const e of this.messages.listEntities<QueueRow>({ queryOptions: { filter } })) {
      const m = readMessage(e);
      const lockedUntil = new Date(now.getTime() + this.options.lockMs).toISOString();
      try {
        const r = await this.messages.updateEntity(
          { partitionKey: queue, rowKey: m.rowKey, deliveryCount: m.deliveryCount + 1, lockedUntil },
          'Merge',
          { etag: m.etag },
        );
        locked.push({ ...m, etag: r.etag!, deliveryCount: m.deliveryCount + 1 });
      } catch (err) {
        if (!isPreconditionFailed(err) && !isNotFound(err)) throw err; // another receiver took it
      }
      if (locked.length >= max) break;
    }
    return locked;
  }

  async complete(m: LocalMessage): Promise<void> {
    await this.messages.deleteEntity(m.queue, m.rowKey, { etag: m.etag });
  }

  /** A failed delivery: released for redelivery, or dead-lettered after the max delivery count. */
  async abandon(m: LocalMessage, error: string): Promise<'redelivery' | 'deadLettered'> {
    const now = this.now();
    const history = [...m.history, { deliveryCount: m.deliveryCount, at: now.toISOString(), error: error.slice(0, 2000) }];
    if (m.deliveryCount >= this.options.maxDeliveryCount) {
      const reason = `MaxDeliveryCountExceeded: failed ${m.deliveryCount} deliveries`;
      await this.deadLetters.upsertEntity(deadLetterRow(m, history, now, reason), 'Replace');
      await this.messages.deleteEntity(m.queue, m.rowKey, { etag: m.etag });
      return 'deadLettered';
    }
    const lockedUntil = new Date(now.getTime() + this.options.redeliveryDelayMs).toISOString();
    await this.messages.updateEntity({ partitionKey: m.queue, rowKey: m.rowKey, lockedUntil, history: JSON.stringify(history) }, 'Merge', {
      etag: m.etag,
    });
    return 'redelivery';
  }

  async pending(queue: string): Promise<LocalMessage[]> {
    const out: LocalMessage[] = [];
    for await (const e of this.messages.listEntities<QueueRow>({ queryOptions: { filter: odata`PartitionKey eq ${queue}` } }))
      out.push(readMessage(e));
    return out;
  }

  /** The dead letters as the admin listing shows them (no ETag: nothing here updates them). */
  async deadLettered(queue?: string): Promise<Omit<DeadLetter, 'etag'>[]> {
    const out: Omit<DeadLetter, 'etag'>[] = [];
    const options = queue ? { queryOptions: { filter: odata`PartitionKey eq ${queue}` } } : {};
    for await (const e of this.deadLetters.listEntities<QueueRow>(options)) {
      const { etag: _etag, ...d } = readDeadLetter(e);
      out.push(d);
    }
    return out;
  }
}
