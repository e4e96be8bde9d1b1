import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { chunk, MAX_BATCH } from './batches';
import { deleteIfPresent, isNotFound, isPreconditionFailed } from './conditions';
import { encodeKeyPart, newestFirst } from './keys';

/**
 * Which quarantined messages are open (not replayed yet), newest first: what the console's count and its
 * list read. The quarantine table itself is keyed by source and content hash, and "open" is a property,
 * so asking it would read every message ever kept, replayed ones included (docs/operations.md).
 *
 * An entry is removed after its row is marked replayed, and written before an operator reopens the row
 * (a failed resubmission): a crash in between leaves an extra entry, which readers check against the row
 * and drop. A message quarantined by a delivery gets its entry after its row (the row's time is the
 * entry's key); a crash in between leaves the entry missing until the redelivery that follows puts it
 * back (QuarantineStore.keep).
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
  /** The one-time build of the index (see ensureIndexed), shared by every caller in this process. */
  private indexed: Promise<void> | undefined;
  private created: Promise<unknown> | undefined;

  constructor(private readonly table: TableClient) {}

  private static entity(source: string, id: string, receivedAt: string) {
    return { partitionKey: OPEN, rowKey: `${newestFirst(receivedAt)}|${encodeKeyPart(source)}|${id}`, source, id, receivedAt };
  }

  /** The app creates its tables at start-up; the replay tool may write here before the app ever ran. */
  private async ensureTable(): Promise<void> {
    await (this.created ??= this.table.createTable());
  }

  async enter(source: string, id: string, receivedAt: string): Promise<void> {
    await this.ensureTable();
    await this.table.upsertEntity(QuarantineOpenIndex.entity(source, id, receivedAt), 'Replace');
  }

  async leave(source: string, id: string, receivedAt: string): Promise<void> {
    await deleteIfPresent(() => this.table.deleteEntity(OPEN, QuarantineOpenIndex.entity(source, id, receivedAt).rowKey));
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
   * the whole quarantine (`openRows`), in transactions of 100, then the marker. Later calls cost one point
   * read per process, then nothing; a build that fails is tried again by the next call.
   */
  ensureIndexed(openRows: () => AsyncIterable<{ source: string; id: string; receivedAt: string }>): Promise<void> {
    this.indexed ??= this.build(openRows).catch((e: unknown) => {
      this.indexed = undefined;
      throw e;
    });
    return this.indexed;
  }

  private async build(openRows: () => AsyncIterable<{ source: string; id: string; receivedAt: string }>): Promise<void> {
    try {
      await this.table.getEntity(MARKER.partitionKey, MARKER.rowKey);
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.ensureTable();
    const entries: TransactionAction[] = [];
    for await (const r of openRows()) entries.push(['upsert', QuarantineOpenIndex.entity(r.source, r.id, r.receivedAt), 'Replace']);
    for (const batch of chunk(entries, MAX_BATCH)) await this.table.submitTransaction(batch);
    await this.table.upsertEntity(MARKER, 'Replace');
  }
}
