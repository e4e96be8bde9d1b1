import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { isNotFound } from '../../shared/storage/conditions';
import type { QuarantinedMessage, QuarantineStore } from '../../shared/storage/quarantine';
import type { Item } from './items';
import { readDeadLetter, type DeadLetter, type QueueRow } from '../../host/localQueueRows';

/** Shortest id prefix the tool accepts in place of a whole id. */
export const MIN_PREFIX = 8;

/** A table that does not exist yet (nothing was ever quarantined or dead-lettered) reads as empty. */
async function orEmpty<T>(read: () => Promise<T[]>): Promise<T[]> {
  try {
    return await read();
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
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
    body: q.raw,
    bodyTruncated: q.rawTruncated,
    details: { rawSha256: q.rawSha256 },
  };
}

/** The quarantine table, through the product's own QuarantineStore. */
export class QuarantineItems {
  constructor(readonly store: QuarantineStore) {}

  async list(source?: string): Promise<Item[]> {
    return (await orEmpty(() => this.store.list(source))).map(quarantineItem);
  }

  /** Every message whose id is `id` or starts with it (a prefix of at least MIN_PREFIX characters). */
  async resolve(id: string): Promise<Item[]> {
    const exact = await orEmpty(async () => {
      const q = await this.store.find(id);
      return q ? [q] : [];
    });
    if (exact.length || id.length < MIN_PREFIX) return exact.map(quarantineItem);
    return (await this.list()).filter((i) => i.id.startsWith(id.toLowerCase()));
  }
}

export interface LocalDeadLetterRow extends DeadLetter {
  id: string;
  /** Set while a replay is under way (or when one failed half-way): a column only this tool writes. */
  replayingAt: string | null;
}

const LOCAL_PREFIX = 'ldl-';
export const isLocalDeadLetterId = (id: string) => id.startsWith(LOCAL_PREFIX);

/** `ldl-` and a hash of queue and row key: short, stable, and safe to type. */
export function localDeadLetterId(queue: string, rowKey: string): string {
  return LOCAL_PREFIX + createHash('sha256').update(`${queue}\n${rowKey}`).digest('hex').slice(0, 28);
}

/**
 * The local host's dead letters (table `<prefix>localDeadLetters`, written by
 * host/localQueues.ts, read with its codec host/localQueueRows.ts). A replay
 * claims the row with its ETag (replayingAt), resubmits, then deletes it with
 * the ETag the claim returned.
 */
export class LocalDeadLetters {
  constructor(private readonly table: TableClient) {}

  private static toRow(e: QueueRow): LocalDeadLetterRow {
    return { id: localDeadLetterId(e.partitionKey, e.rowKey), ...readDeadLetter(e), replayingAt: (e.replayingAt as string) || null };
  }

  static toItem(r: LocalDeadLetterRow): Item {
    const lastError = r.history.at(-1)?.error;
    return {
      id: r.id,
      kind: 'local-dead-letter',
      source: r.queue,
      receivedAt: r.deadLetteredAt,
      messageId: r.messageId || null,
      reason: lastError ? `${r.deadLetterReason}; last error: ${lastError}` : r.deadLetterReason,
      replayedAt: null,
      body: r.body,
      bodyTruncated: false,
      details: { deliveryCount: r.deliveryCount, enqueuedTimeUtc: r.enqueuedTimeUtc, history: r.history, replayingAt: r.replayingAt },
    };
  }

  async rows(queue?: string): Promise<LocalDeadLetterRow[]> {
    return orEmpty(async () => {
      const out: LocalDeadLetterRow[] = [];
      const options = queue ? { queryOptions: { filter: odata`PartitionKey eq ${queue}` } } : {};
      for await (const e of this.table.listEntities<QueueRow>(options)) out.push(LocalDeadLetters.toRow(e));
      return out;
    });
  }

  async list(queue?: string): Promise<Item[]> {
    return (await this.rows(queue)).map(LocalDeadLetters.toItem);
  }

  /** Rows whose id is `id` or starts with it (at least MIN_PREFIX characters). */
  async resolve(id: string): Promise<LocalDeadLetterRow[]> {
    const rows = await this.rows();
    const exact = rows.filter((r) => r.id === id);
    if (exact.length || id.length < MIN_PREFIX) return exact;
    return rows.filter((r) => r.id.startsWith(id.toLowerCase()));
  }

  /** Re-reads one row (fresh ETag), or undefined once it is gone. */
  async get(queue: string, rowKey: string): Promise<LocalDeadLetterRow | undefined> {
    try {
      return LocalDeadLetters.toRow(await this.table.getEntity<QueueRow>(queue, rowKey));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Claims the row for a replay with the ETag it was read with; returns the new ETag. */
  async claim(r: LocalDeadLetterRow, now: Date): Promise<string> {
    const res = await this.table.updateEntity({ partitionKey: r.queue, rowKey: r.rowKey, replayingAt: now.toISOString() }, 'Merge', {
      etag: r.etag,
    });
    return res.etag ?? '';
  }

  /** Gives the claim back after a failed resubmission. */
  async release(r: LocalDeadLetterRow, etag: string): Promise<void> {
    await this.table.updateEntity({ partitionKey: r.queue, rowKey: r.rowKey, replayingAt: '' }, 'Merge', { etag });
  }

  /** Removes the row after a successful resubmission, with the ETag of the claim. */
  async remove(r: LocalDeadLetterRow, etag: string): Promise<void> {
    await this.table.deleteEntity(r.queue, r.rowKey, { etag });
  }
}
