import type { TableClient } from '@azure/data-tables';
import { createIfAbsent, deleteIfPresent, isNotFound } from './conditions';

/**
 * Which dead letters were retried, when and by whom (table `messageRetries`, one
 * row per message id). A retried dead letter leaves its dead-letter queue, so
 * this is what still knows it when someone retries it a second time. The row is
 * created before the resubmission (a create fails when the row exists: two
 * operators cannot both claim one message) and removed again when it fails.
 */
export interface RetryRecord {
  id: string;
  retriedAt: string;
  retriedBy: string | null;
}

export class RetryLedger {
  private created: Promise<unknown> | undefined;

  constructor(private readonly table: TableClient) {}

  /** The table is made on first use: most installations never retry a dead letter. */
  private async ensureTable(): Promise<void> {
    await (this.created ??= this.table.createTable());
  }

  /** Claims `id` for a retry; returns the earlier retry instead when there was one. */
  async claim(id: string, by: string | null, now: Date): Promise<RetryRecord | undefined> {
    await this.ensureTable();
    const created = await createIfAbsent(() =>
      this.table.createEntity({ partitionKey: id, rowKey: '', retriedAt: now.toISOString(), retriedBy: by ?? '' }),
    );
    if (created) return undefined;
    return (await this.get(id)) ?? { id, retriedAt: '(unknown)', retriedBy: null };
  }

  /** Overwrites any earlier record (a forced retry). */
  async record(id: string, by: string | null, now: Date): Promise<void> {
    await this.ensureTable();
    await this.table.upsertEntity({ partitionKey: id, rowKey: '', retriedAt: now.toISOString(), retriedBy: by ?? '' }, 'Replace');
  }

  /** Gives the claim back: the resubmission failed, so it may be retried again. */
  async release(id: string): Promise<void> {
    await deleteIfPresent(() => this.table.deleteEntity(id, ''));
  }

  async get(id: string): Promise<RetryRecord | undefined> {
    try {
      const e = await this.table.getEntity<{ retriedAt: string; retriedBy: string }>(id, '');
      return { id, retriedAt: e.retriedAt, retriedBy: e.retriedBy || null };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
