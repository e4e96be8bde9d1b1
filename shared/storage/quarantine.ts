import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { createIfAbsent, isNotFound, withOptimisticRetry } from './conditions';
import { joinText, MAX_TEXT, splitText } from './largeText';

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

export class QuarantineStore {
  constructor(private readonly table: TableClient) {}

  async keep(m: { source: string; messageId?: string | null; reason: string; raw: string; now: Date }): Promise<string> {
    const sha = createHash('sha256').update(m.raw).digest('hex');
    const id = createHash('sha256').update(`${m.source}\n${sha}`).digest('hex').slice(0, 32);
    const created = await createIfAbsent(() =>
      this.table.createEntity({
        partitionKey: m.source,
        rowKey: id,
        messageId: m.messageId ?? '',
        reason: m.reason.slice(0, 30_000),
        receivedAt: m.now.toISOString(),
        rawLength: m.raw.length,
        rawTruncated: m.raw.length > MAX_TEXT,
        rawSha256: sha,
        replayedAt: '',
        ...splitText(m.raw, 'raw'),
      }),
    );
    if (!created) await this.reopenIfReplayed(m.source, id, m.reason, m.now);
    return id;
  }

  /**
   * The same message refused again after an operator replayed it (the cause was
   * not fixed after all): the row goes back to "not replayed" with the new
   * reason, so the second refusal is not hidden behind the first replay.
   * A redelivery of a message that was never replayed changes nothing.
   */
  private async reopenIfReplayed(source: string, id: string, reason: string, now: Date): Promise<void> {
    await withOptimisticRetry(`quarantine ${id}`, async () => {
      const row = await this.get(source, id);
      if (!row?.replayedAt) return;
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

  /** Messages not replayed yet, up to `cap` (keys only). */
  async countOpen(cap = 10_000): Promise<number> {
    let n = 0;
    for await (const _ of this.table.listEntities({ queryOptions: { filter: odata`replayedAt eq ${''}`, select: ['RowKey'] } })) {
      if (++n >= cap) break;
    }
    return n;
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
   * One page (up to `pageSize`, at most one table request): messages not yet
   * replayed, or all with `includeReplayed`. Pages follow the table's key order.
   */
  async page(options: { pageSize: number; continuation?: string; includeReplayed?: boolean }): Promise<QuarantinePage> {
    const filter = options.includeReplayed ? undefined : odata`replayedAt eq ''`;
    const pages = this.table
      .listEntities<Entity>(filter ? { queryOptions: { filter } } : {})
      .byPage({ maxPageSize: options.pageSize, continuationToken: options.continuation });
    const next = await pages.next();
    if (next.done) return { items: [], continuation: undefined };
    return { items: next.value.map(QuarantineStore.toMessage), continuation: next.value.continuationToken };
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

  /** A message by its id alone, whatever its source (ids are unique across sources). */
  async find(id: string): Promise<(QuarantinedMessage & { etag: string }) | undefined> {
    for await (const e of this.table.listEntities<Entity>({ queryOptions: { filter: odata`RowKey eq ${id}` } })) {
      return { ...QuarantineStore.toMessage(e), etag: e.etag };
    }
    return undefined;
  }

  /**
   * Marks a message replayed, with the ETag it was read with, so two operators cannot replay it twice.
   * Returns the row's new ETag (for `clearReplayed` when the resubmission then fails).
   */
  async markReplayed(source: string, id: string, etag: string, now: Date, by: string | null = null): Promise<string> {
    const r = await this.table.updateEntity(
      { partitionKey: source, rowKey: id, replayedAt: now.toISOString(), replayedBy: by ?? '' },
      'Merge',
      { etag },
    );
    return r.etag ?? '';
  }

  /** Takes a replay mark back (the resubmission failed), with the ETag `markReplayed` returned. */
  async clearReplayed(source: string, id: string, etag: string): Promise<void> {
    await this.table.updateEntity({ partitionKey: source, rowKey: id, replayedAt: '', replayedBy: '' }, 'Merge', { etag });
  }
}
