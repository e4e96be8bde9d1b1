import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { isNotFound } from '../storage/conditions';
import { readDeadLetter, type DeadLetter, type QueueRow } from './localQueueRows';

export interface LocalDeadLetterRow extends DeadLetter {
  id: string;
  /** Set while a retry is under way (or when one failed half-way): a column only retries write. */
  replayingAt: string | null;
}

const LOCAL_PREFIX = 'ldl-';
export const isLocalDeadLetterId = (id: string) => id.startsWith(LOCAL_PREFIX);

/** `ldl-` and a hash of queue and row key: short, stable, and safe to type. */
export function localDeadLetterId(queue: string, rowKey: string): string {
  return LOCAL_PREFIX + createHash('sha256').update(`${queue}\n${rowKey}`).digest('hex').slice(0, 28);
}

/** A table that does not exist yet (nothing was ever dead-lettered) reads as empty. */
async function orEmpty<T>(read: () => Promise<T[]>): Promise<T[]> {
  try {
    return await read();
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

/**
 * The local host's dead letters (table `<prefix>localDeadLetters`, written by
 * host/localQueues.ts). A retry claims the row with its ETag (replayingAt),
 * resubmits, then deletes it with the ETag the claim returned.
 */
export class LocalDeadLetters {
  constructor(private readonly table: TableClient) {}

  private static toRow(e: QueueRow): LocalDeadLetterRow {
    return { id: localDeadLetterId(e.partitionKey, e.rowKey), ...readDeadLetter(e), replayingAt: (e.replayingAt as string) || null };
  }

  async rows(queue?: string): Promise<LocalDeadLetterRow[]> {
    return orEmpty(async () => {
      const out: LocalDeadLetterRow[] = [];
      const options = queue ? { queryOptions: { filter: odata`PartitionKey eq ${queue}` } } : {};
      for await (const e of this.table.listEntities<QueueRow>(options)) out.push(LocalDeadLetters.toRow(e));
      return out;
    });
  }

  /** One page (one table request) and where the next starts. */
  async page(pageSize: number, continuation?: string): Promise<{ rows: LocalDeadLetterRow[]; continuation: string | undefined }> {
    try {
      const next = await this.table.listEntities<QueueRow>().byPage({ maxPageSize: pageSize, continuationToken: continuation }).next();
      if (next.done) return { rows: [], continuation: undefined };
      return { rows: next.value.map(LocalDeadLetters.toRow), continuation: next.value.continuationToken };
    } catch (e) {
      if (isNotFound(e)) return { rows: [], continuation: undefined };
      throw e;
    }
  }

  /**
   * Rows whose id is `id` or, with `prefix`, starts with it. The id is a hash,
   * so this reads the table: it is the local host's, a development stand-in.
   */
  async resolve(id: string, prefix = false): Promise<LocalDeadLetterRow[]> {
    const rows = await this.rows();
    const exact = rows.filter((r) => r.id === id);
    if (exact.length || !prefix) return exact;
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

  /** Claims the row for a retry with the ETag it was read with; returns the new ETag. */
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
