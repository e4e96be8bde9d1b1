import { odata, type TableClient } from '@azure/data-tables';
import { createIfAbsent, deleteIfPresent } from './conditions';
import { shardOf } from './staging';

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

export class OutboxIndex {
  constructor(private readonly table: TableClient) {}

  async add(proposal: string, postingId: string, now: Date): Promise<void> {
    await createIfAbsent(() =>
      this.table.createEntity({
        partitionKey: shardOf(proposal),
        rowKey: `${proposal}|${postingId}`,
        proposal,
        postingId,
        createdAt: now.toISOString(),
      }),
    );
  }

  async *entries(shard: string): AsyncGenerator<OutboxEntry> {
    yield* this.table.listEntities<OutboxEntry>({ queryOptions: { filter: odata`PartitionKey eq ${shard}` } });
  }

  /** Removes the entry only as it was read: a concurrent re-add keeps it. */
  async remove(entry: Pick<OutboxEntry, 'partitionKey' | 'rowKey' | 'etag'>): Promise<void> {
    await deleteIfPresent(() => this.table.deleteEntity(entry.partitionKey, entry.rowKey, { etag: entry.etag }));
  }
}
