import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { BilledSalesActual } from '../contracts/actual';
import type { Departed, ProposalLine } from '../domain/importPlan';
import { takeDownFor, type ProposalHeader } from '../domain/proposal';
import type { PostingLine } from '../contracts/posting';
import { encodeKeyPart, prefixEnd } from './keys';
import { isNotFound } from './conditions';

/**
 * The proposals table: one partition per proposal (docs/storage.md).
 *   header                            the proposal header (status, active build, posting)
 *   actual|{actualId}                 latest version of each billed sales actual it holds, or the
 *                                     departure of one that is no longer its own (see Departed)
 *   line|{build}|{actualId}           its lines; only the header's activeBuild is visible
 *   posted|{postingId}|{actualId}     accounting details per actual, and the outbox flag
 *   held|{partition}                  exists once any actual row does (see heldEntity)
 */
/**
 * The header's row key repeats the partition key. Azure does not need that, but
 * Azurite looks rows up by RowKey before PartitionKey, so a row key shared by
 * every partition would make each local point read scan every proposal.
 */
export const headerRow = (pk: string) => `header|${pk}`;
export const isHeaderRow = (rowKey: string) => rowKey.startsWith('header|');
export const actualRow = (actualId: string) => `actual|${encodeKeyPart(actualId)}`;
export const lineRow = (build: string, actualId: string) => `line|${build}|${encodeKeyPart(actualId)}`;
export const postedRow = (postingId: string, actualId: string) => `posted|${postingId}|${encodeKeyPart(actualId)}`;

export interface Stored<T> {
  value: T;
  etag: string;
}

export interface PostedLine extends PostingLine {
  postingId: string;
  /** When the accounting update was handed to Service Bus; null while it waits in the outbox. */
  sentAt: string | null;
}

/**
 * The "held" marker: written in the first transaction that writes any
 * `actual|` row of the partition, and never removed, so it exists exactly when
 * the partition holds actuals. Import from staging may then skip reading a
 * partition whose header it already has: it *creates* the marker in its first
 * transaction, which fails (409, nothing written) if anything was held after
 * all, and the import reads the partition and tries again.
 *
 * Its row key repeats the partition key only to be unique per row: Azurite
 * indexes RowKey before PartitionKey, so a row key shared by every partition
 * (like `header`) costs a scan of all of them on each lookup there. Azure
 * Table Storage looks up PartitionKey first and does not care.
 */
export const heldRow = (pk: string) => `held|${pk}`;
export const heldEntity = (pk: string) => ({ partitionKey: pk, rowKey: heldRow(pk) });

/** The header and what one partition holds of one actual (ProposalStore.holding). */
export interface Holding {
  header: Stored<ProposalHeader> | undefined;
  actual: Stored<BilledSalesActual> | undefined;
  departed: Stored<Departed> | undefined;
}

/** Everything one proposal's partition holds, as read in one query. */
export interface ProposalPartition {
  partitionKey: string;
  header: Stored<ProposalHeader> | undefined;
  /** The held marker exists (see heldEntity). */
  held: boolean;
  actuals: Map<string, Stored<BilledSalesActual>>;
  /** Actuals that left the proposal, through which version (same row keys as `actuals`; an id is in one map or the other). */
  departed: Map<string, Stored<Departed>>;
  /** Line rows of every build, keyed by build id. */
  builds: Map<string, { rowKey: string; etag: string; line: ProposalLine }[]>;
  posted: Map<string, Stored<PostedLine>[]>;
}

type Row = { partitionKey: string; rowKey: string; etag: string; json?: string };

const json = (row: Row) => JSON.parse(row.json ?? 'null');

export function headerEntity(pk: string, h: ProposalHeader) {
  return {
    partitionKey: pk,
    rowKey: headerRow(pk),
    status: h.status,
    version: String(h.invoice.version),
    activeBuild: h.activeBuild ?? '',
    json: JSON.stringify(h),
  };
}
export const actualEntity = (pk: string, a: BilledSalesActual) => ({
  partitionKey: pk,
  rowKey: actualRow(a.actualId),
  version: String(a.version),
  amount: a.amount,
  json: JSON.stringify(a),
});
/** A departure lives in the actual's own row, so a parked version and its departure can never both exist. */
export const departedEntity = (pk: string, d: Departed) => ({
  partitionKey: pk,
  rowKey: actualRow(d.actualId),
  version: String(d.through),
  json: JSON.stringify({ departed: d }),
});
export const lineEntity = (pk: string, build: string, l: ProposalLine) => ({
  partitionKey: pk,
  rowKey: lineRow(build, l.actual.actualId),
  lineNumber: l.lineNumber,
  amount: l.actual.amount,
  json: JSON.stringify(l),
});
export const postedEntity = (pk: string, p: PostedLine) => ({
  partitionKey: pk,
  rowKey: postedRow(p.postingId, p.actualId),
  sentAt: p.sentAt ?? '',
  json: JSON.stringify(p),
});

export class ProposalStore {
  constructor(private readonly table: TableClient) {}

  get client(): TableClient {
    return this.table;
  }

  async read(pk: string): Promise<ProposalPartition> {
    const part: ProposalPartition = { partitionKey: pk, header: undefined, held: false, actuals: new Map(), departed: new Map(), builds: new Map(), posted: new Map() };
    const rows = this.table.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey', 'json'] } });
    for await (const row of rows) {
      const [kind, a] = row.rowKey.split('|');
      if (isHeaderRow(row.rowKey)) part.header = { value: json(row), etag: row.etag };
      else if (kind === 'held') part.held = true;
      else if (kind === 'actual') {
        const held = json(row) as BilledSalesActual | { departed: Departed };
        if ('departed' in held) part.departed.set(held.departed.actualId, { value: held.departed, etag: row.etag });
        else part.actuals.set(held.actualId, { value: held, etag: row.etag });
      } else if (kind === 'line') {
        const list = part.builds.get(a!) ?? [];
        list.push({ rowKey: row.rowKey, etag: row.etag, line: json(row) });
        part.builds.set(a!, list);
      } else if (kind === 'posted') {
        const list = part.posted.get(a!) ?? [];
        list.push({ value: json(row), etag: row.etag });
        part.posted.set(a!, list);
      }
    }
    return part;
  }

  /** One row, or undefined when it does not exist. */
  private async row(pk: string, rowKey: string): Promise<Row | undefined> {
    try {
      return await this.table.getEntity<Row>(pk, rowKey, { queryOptions: { select: ['RowKey', 'json'] } });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async header(pk: string): Promise<Stored<ProposalHeader> | undefined> {
    const row = await this.row(pk, headerRow(pk));
    return row && { value: json(row), etag: row.etag };
  }

  /** Creates the header; returns the ETag of the write (undefined if the service sent none). */
  async createHeader(pk: string, h: ProposalHeader): Promise<string | undefined> {
    return (await this.table.createEntity(headerEntity(pk, h))).etag;
  }

  /** Replaces the header read with `etag`; returns the ETag of the write. */
  async replaceHeader(pk: string, h: ProposalHeader, etag: string): Promise<string | undefined> {
    return (await this.table.updateEntity(headerEntity(pk, h), 'Replace', { etag })).etag;
  }

  /**
   * What the proposal holds of one actual, and its header, in one query: what a
   * newer version of the actual must know before it may leave this proposal.
   */
  async holding(pk: string, actualId: string): Promise<Holding> {
    const filter = odata`PartitionKey eq ${pk} and (RowKey eq ${headerRow(pk)} or RowKey eq ${actualRow(actualId)})`;
    const found: Holding = { header: undefined, actual: undefined, departed: undefined };
    for await (const row of this.table.listEntities<Row>({ queryOptions: { filter, select: ['RowKey', 'json'] } })) {
      if (isHeaderRow(row.rowKey)) found.header = { value: json(row), etag: row.etag };
      else {
        const held = json(row) as BilledSalesActual | { departed: Departed };
        if ('departed' in held) found.departed = { value: held.departed, etag: row.etag };
        else found.actual = { value: held, etag: row.etag };
      }
    }
    return found;
  }

  /**
   * Takes an actual off this proposal because a newer version of it belongs
   * elsewhere, before that version is registered or staged anywhere. In one
   * transaction: its departure (replacing what the proposal held of it, with
   * that row's ETag), the held marker, and the header with its ETag, off show
   * when it showed lines. Changing the header's ETag stops any import or
   * posting of this proposal that read it before: they read again and see the
   * departure. Throws 409/412 when the partition changed since `h` was read.
   */
  async takeDown(pk: string, actualId: string, through: number, h: Holding): Promise<void> {
    // A newer version back on this proposal means the register moved on: the caller's register write fails and it decides again.
    if (h.actual && h.actual.value.version > through) return;
    if (!h.actual && (h.departed?.value.through ?? -1) >= through) return; // already gone (a crashed delivery, redelivered)
    const rows: TransactionAction[] = [
      ['upsert', heldEntity(pk), 'Replace'],
      conditionalWrite(departedEntity(pk, { actualId, through }), (h.actual ?? h.departed)?.etag),
    ];
    // The header is written even unchanged: a new ETag is what stops the imports and postings that read it before.
    const header = h.header && (h.actual ? takeDownFor(h.header.value, actualId) : h.header.value);
    if (h.header && header) rows.push(['update', headerEntity(pk, header), 'Merge', { etag: h.header.etag }]);
    await this.table.submitTransaction(rows);
  }

  /** Rows of one prefix (a build's lines or a posting's rows), in key order. */
  async range<T>(pk: string, prefix: string): Promise<Stored<T>[]> {
    const filter = odata`PartitionKey eq ${pk} and RowKey ge ${prefix} and RowKey lt ${prefixEnd(prefix)}`;
    const out: Stored<T>[] = [];
    for await (const row of this.table.listEntities<Row>({ queryOptions: { filter, select: ['RowKey', 'json'] } })) {
      out.push({ value: json(row), etag: row.etag });
    }
    return out;
  }

  lines(pk: string, build: string): Promise<Stored<ProposalLine>[]> {
    return this.range<ProposalLine>(pk, `line|${build}|`);
  }

  postedLines(pk: string, postingId: string): Promise<Stored<PostedLine>[]> {
    return this.range<PostedLine>(pk, `posted|${postingId}|`);
  }

  async point<T>(pk: string, rowKey: string): Promise<T | undefined> {
    const row = await this.row(pk, rowKey);
    return row && (json(row) as T);
  }
}

/** Insert or, with the ETag it was read with, replace. */
export function conditionalWrite<E extends { partitionKey: string; rowKey: string }>(
  entity: E,
  etag: string | undefined,
): TransactionAction {
  return etag ? ['update', entity, 'Replace', { etag }] : ['create', entity];
}

