import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { createIfAbsent, isNotFound, withOptimisticRetry } from './conditions';
import { joinText, MAX_TEXT, splitText } from './largeText';
import { QuarantineOpenIndex } from './quarantineOpen';

/**
 * Messages refused by a schema or a business rule, kept raw with the reason so
 * nothing is lost and an operator can fix the cause and replay them. The row key
 * is a hash of source and content, so a redelivered bad message is kept once.
 */
export interface QuarantinedMessage {
  id: string;
  source: string;
  messageId: string | null;
  reason: string;
  receivedAt: string;
  raw: string;
  /** The raw text was longer than a table row holds; `raw` is its beginning. */
  rawTruncated: boolean;
  rawSha256: string;
  replayedAt: string | null;
  /** Who replayed it (the operator's name), when an operator said. */
  replayedBy: string | null;
}

/** One page of the quarantine and where the next one starts (the table's continuation, opaque). */
export interface QuarantinePage {
  items: QuarantinedMessage[];
  continuation: string | undefined;
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string; etag: string };

/** What names a quarantined message and its place in the open index. */
export type QuarantineKey = Pick<QuarantinedMessage, 'source' | 'id' | 'receivedAt'>;

export class QuarantineStore {
  private readonly open: QuarantineOpenIndex;

  constructor(
    private readonly table: TableClient,
    openTable: TableClient,
  ) {
    this.open = new QuarantineOpenIndex(openTable);
  }

  async keep(m: { source: string; messageId?: string | null; reason: string; raw: string; now: Date }): Promise<string> {
    const sha = createHash('sha256').update(m.raw).digest('hex');
    const id = createHash('sha256').update(`${m.source}\n${sha}`).digest('hex').slice(0, 32);
    const receivedAt = m.now.toISOString();
    const created = await createIfAbsent(() =>
      this.table.createEntity({
        partitionKey: m.source,
        rowKey: id,
        messageId: m.messageId ?? '',
        reason: m.reason.slice(0, 30_000),
        receivedAt,
        rawLength: m.raw.length,
        rawTruncated: m.raw.length > MAX_TEXT,
        rawSha256: sha,
        replayedAt: '',
        ...splitText(m.raw, 'raw'),
      }),
    );
    if (created) await this.open.enter(m.source, id, receivedAt);
    else await this.reopenIfReplayed(m.source, id, m.reason, m.now);
    return id;
  }

  /**
   * The same message refused again after an operator replayed it (the cause was
   * not fixed after all): the row goes back to "not replayed" with the new
   * reason, so the second refusal is not hidden behind the first replay.
   * A redelivery of a message that was never replayed changes nothing, but
   * writes its open entry again: the delivery before may have crashed between
   * the row and its entry.
   */
  private async reopenIfReplayed(source: string, id: string, reason: string, now: Date): Promise<void> {
    await withOptimisticRetry(`quarantine ${id}`, async () => {
      const row = await this.get(source, id);
      if (!row) return;
      if (!row.replayedAt) return this.open.enter(source, id, row.receivedAt);
      await this.table.updateEntity(
        {
          partitionKey: source,
          rowKey: id,
          reason: reason.slice(0, 30_000),
          receivedAt: now.toISOString(),
          replayedAt: '',
          replayedBy: '',
        },
        'Merge',
        { etag: row.etag },
      );
      await this.open.enter(source, id, now.toISOString());
    });
  }

  private static toMessage(e: Entity): QuarantinedMessage {
    const raw = joinText(e, 'raw');
    return {
      id: e.rowKey,
      source: e.partitionKey,
      messageId: (e.messageId as string) || null,
      reason: String(e.reason),
      receivedAt: String(e.receivedAt),
      raw,
      rawTruncated: Boolean(e.rawTruncated),
      rawSha256: String(e.rawSha256),
      replayedAt: (e.replayedAt as string) || null,
      replayedBy: (e.replayedBy as string) || null,
    };
  }

  /** Open rows, read from the whole table: only to build the open index once (QuarantineOpenIndex.ensureIndexed). */
  private async *openRows(): AsyncIterable<QuarantineKey> {
    const rows = this.table.listEntities<Entity>({
      queryOptions: { filter: odata`replayedAt eq ${''}`, select: ['PartitionKey', 'RowKey', 'receivedAt'] },
    });
    try {
      for await (const e of rows) yield { source: e.partitionKey, id: e.rowKey, receivedAt: String(e.receivedAt) };
    } catch (e) {
      if (!isNotFound(e)) throw e; // nothing was ever quarantined
    }
  }

  /** Messages not replayed yet, up to `cap`: the open index's keys, not the table. */
  async countOpen(cap = 10_000): Promise<number> {
    await this.open.ensureIndexed(() => this.openRows());
    return this.open.count(cap);
  }

  async list(source?: string): Promise<QuarantinedMessage[]> {
    const filter = source ? odata`PartitionKey eq ${source}` : undefined;
    const out: QuarantinedMessage[] = [];
    for await (const e of this.table.listEntities<Entity>(filter ? { queryOptions: { filter } } : {})) {
      out.push(QuarantineStore.toMessage(e));
    }
    return out.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }

  /**
   * One page of up to `pageSize`: the messages not yet replayed, newest first (one query of the open index
   * and a point read of each row, in parallel); or, with `includeReplayed`, every message kept, in the
   * table's key order (source, then id: one request, history included).
   */
  async page(options: { pageSize: number; continuation?: string; includeReplayed?: boolean }): Promise<QuarantinePage> {
    if (options.includeReplayed) {
      const pages = this.table.listEntities<Entity>().byPage({ maxPageSize: options.pageSize, continuationToken: options.continuation });
      const next = await pages.next();
      if (next.done) return { items: [], continuation: undefined };
      return { items: next.value.map(QuarantineStore.toMessage), continuation: next.value.continuationToken };
    }
    await this.open.ensureIndexed(() => this.openRows());
    const { entries, next } = await this.open.page(options.pageSize, options.continuation);
    const rows = await Promise.all(entries.map((e) => this.get(e.source, e.id)));
    const items: QuarantinedMessage[] = [];
    for (const [i, row] of rows.entries()) {
      const entry = entries[i]!;
      // An entry the row no longer matches (replayed, or reopened later under a newer entry) is left from a crash.
      if (row && !row.replayedAt && row.receivedAt === entry.receivedAt) items.push(row);
      else await this.open.drop(entry);
    }
    return { items, continuation: next };
  }

  async get(source: string, id: string): Promise<(QuarantinedMessage & { etag: string }) | undefined> {
    try {
      const e = await this.table.getEntity<Entity>(source, id);
      return { ...QuarantineStore.toMessage(e), etag: e.etag };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * Marks a message replayed, with the ETag it was read with, so two operators cannot replay it twice.
   * Returns the row's new ETag (for `clearReplayed` when the resubmission then fails).
   */
  async markReplayed(m: QuarantineKey, etag: string, now: Date, by: string | null = null): Promise<string> {
    const r = await this.table.updateEntity(
      { partitionKey: m.source, rowKey: m.id, replayedAt: now.toISOString(), replayedBy: by ?? '' },
      'Merge',
      { etag },
    );
    // The mark is the commit point: an entry left behind is dropped by the next page that finds it.
    await this.open.leave(m.source, m.id, m.receivedAt).catch(() => undefined);
    return r.etag ?? '';
  }

  /** Takes a replay mark back (the resubmission failed), with the ETag `markReplayed` returned. */
  async clearReplayed(m: QuarantineKey, etag: string): Promise<void> {
    // The entry first: no redelivery follows an operator's retry to put back a missing one, and an extra one is dropped.
    await this.open.enter(m.source, m.id, m.receivedAt);
    await this.table.updateEntity({ partitionKey: m.source, rowKey: m.id, replayedAt: '', replayedBy: '' }, 'Merge', { etag });
  }
}
