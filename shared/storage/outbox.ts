import { odata, type TableClient } from '@azure/data-tables';
import { createIfAbsent, deleteIfPresent } from './conditions';
import { SHARD_RANGE, shardOf } from './staging';

/**
 * Index of postings whose accounting updates may not all be sent yet. The
 * updates themselves live in the proposal's partition (posted rows); this table
 * only says where to look, so the dispatcher never scans proposals.
 */
export interface OutboxEntry {
  partitionKey: string;
  rowKey: string;
  etag: string;
  proposal: string;
  postingId: string;
  createdAt: string;
}

export type OutboxEntryKey = Pick<OutboxEntry, 'partitionKey' | 'rowKey' | 'etag'>;

const { first, last } = SHARD_RANGE;

export class OutboxIndex {
  constructor(private readonly table: TableClient) {}

  /** Adds the posting's entry; returns its key and ETag, or undefined when it was already there (a retry). */
  async add(proposal: string, postingId: string, now: Date): Promise<OutboxEntryKey | undefined> {
    const key = { partitionKey: shardOf(proposal), rowKey: `${proposal}|${postingId}` };
    let etag: string | undefined;
    const created = await createIfAbsent(async () => {
      etag = (await this.table.createEntity({ ...key, proposal, postingId, createdAt: now.toISOString() })).etag;
    });
    return created && etag ? { ...key, etag } : undefined;
  }

  /** Entries added at or before `cutoff` (ISO): postings still unsent since then. */
  async *olderThan(cutoff: string): AsyncGenerator<OutboxEntry> {
    yield* this.table.listEntities<OutboxEntry>({
      queryOptions: { filter: odata`PartitionKey ge ${first} and PartitionKey le ${last} and createdAt le ${cutoff}` },
    });
  }

  /** Every entry, in one range query over the shards (an idle sweep pays one request). */
  async *entries(): AsyncGenerator<OutboxEntry> {
    yield* this.table.listEntities<OutboxEntry>({ queryOptions: { filter: odata`PartitionKey ge ${first} and PartitionKey le ${last}` } });
  }

  /** Removes the entry only as it was read: a concurrent re-add keeps it. */
  async remove(entry: OutboxEntryKey): Promise<void> {
    await deleteIfPresent(() => this.table.deleteEntity(entry.partitionKey, entry.rowKey, { etag: entry.etag }));
  }
}
