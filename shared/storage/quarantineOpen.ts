import { odata, type TableClient } from '@azure/data-tables';
import { deleteIfPresent, isNotFound, isPreconditionFailed } from './conditions';
import { encodeKeyPart, newestFirst } from './keys';

/**
 * Which quarantined messages are open (not replayed yet), newest first: what the console's count and its
 * list read. The quarantine table itself is keyed by source and content hash, and "open" is a property,
 * so asking it would read every message ever kept, replayed ones included (docs/operations.md).
 *
 * An entry is written after the row it names is created (or reopened) and removed after the row is
 * marked replayed. A crash in between leaves an entry missing, which the redelivery that follows puts
 * back (QuarantineStore.keep), or extra, which readers check against the row and drop.
 */
const OPEN = 'open';
/** Rows quarantined before this index existed have their entries once this marker exists. */
const MARKER = { partitionKey: 'meta', rowKey: 'indexed' };

export interface OpenEntry {
  source: string;
  id: string;
  receivedAt: string;
  rowKey: string;
  etag: string;
}

type EntryRow = { partitionKey: string; rowKey: string; etag: string; source: string; id: string; receivedAt: string };

export class QuarantineOpenIndex {
  /** This process has seen the marker: no need to read it again. */
  private indexed = false;

  constructor(private readonly table: TableClient) {}

  private static rowKey(source: string, id: string, receivedAt: string): string {
    return `${newestFirst(receivedAt)}|${encodeKeyPart(source)}|${id}`;
  }

  /** Runs `write`, creating the table first if it does not exist yet (a tool that never started the app). */
  private async withTable<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.table.createTable();
      return write();
    }
  }

  async enter(source: string, id: string, receivedAt: string): Promise<void> {
    const entity = { partitionKey: OPEN, rowKey: QuarantineOpenIndex.rowKey(source, id, receivedAt), source, id, receivedAt };
    await this.withTable(() => this.table.upsertEntity(entity, 'Replace'));
  }

  async leave(source: string, id: string, receivedAt: string): Promise<void> {
    await deleteIfPresent(() => this.table.deleteEntity(OPEN, QuarantineOpenIndex.rowKey(source, id, receivedAt)));
  }

  /** Drops an entry a reader found stale, with the ETag it read (an entry written again since stays). */
  async drop(entry: OpenEntry): Promise<void> {
    try {
      await deleteIfPresent(() => this.table.deleteEntity(OPEN, entry.rowKey, { etag: entry.etag }));
    } catch (e) {
      if (!isPreconditionFailed(e)) throw e;
    }
  }

  /** One page of entries, newest first: one request. */
  async page(pageSize: number, continuationToken?: string): Promise<{ entries: OpenEntry[]; next: string | undefined }> {
    const pages = this.table
      .listEntities<EntryRow>({ queryOptions: { filter: odata`PartitionKey eq ${OPEN}` } })
      .byPage({ maxPageSize: pageSize, continuationToken });
    const first = await pages.next().catch((e: unknown) => {
      if (isNotFound(e)) return { done: true as const, value: undefined };
      throw e;
    });
    if (first.done) return { entries: [], next: undefined };
    const entries = first.value.map((r) => ({ source: r.source, id: r.id, receivedAt: r.receivedAt, rowKey: r.rowKey, etag: r.etag }));
    return { entries, next: first.value.continuationToken };
  }

  /** Open entries, up to `cap` (keys only). */
  async count(cap: number): Promise<number> {
    let n = 0;
    try {
      for await (const _ of this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${OPEN}`, select: ['RowKey'] } }))
        if (++n >= cap) break;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return n;
  }

  /**
   * Once per deployment: entries for the open rows quarantined before this index existed, from one read of
   * the whole quarantine (`openRows`), then the marker. Later calls cost one point read per process, then nothing.
   */
  async ensureIndexed(openRows: () => AsyncIterable<{ source: string; id: string; receivedAt: string }>): Promise<void> {
    if (this.indexed) return;
    try {
      await this.table.getEntity(MARKER.partitionKey, MARKER.rowKey);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      for await (const r of openRows()) await this.enter(r.source, r.id, r.receivedAt);
      await this.withTable(() => this.table.upsertEntity(MARKER, 'Replace'));
    }
    this.indexed = true;
  }
}
