import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { BilledSalesActual } from '../contracts/actual';
import type { ProposalLine } from '../domain/importPlan';
import type { ProposalHeader } from '../domain/proposal';
import type { PostingLine } from '../contracts/posting';
import { encodeKeyPart, prefixEnd } from './keys';
import { isNotFound } from './conditions';

/**
 * The proposals table: one partition per proposal (docs/storage.md).
 *   header                            the proposal header (status, active build, posting)
 *   actual|{actualId}                 latest version of each billed sales actual it holds
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

/** Everything one proposal's partition holds, as read in one query. */
export interface ProposalPartition {
  partitionKey: string;
  header: Stored<ProposalHeader> | undefined;
  /** The held marker exists (see heldEntity). */
  held: boolean;
  actuals: Map<string, Stored<BilledSalesActual>>;
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
    const part: ProposalPartition = { partitionKey: pk, header: undefined, held: false, actuals: new Map(), builds: new Map(), posted: new Map() };
    const rows = this.table.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey', 'json'] } });
    for await (const row of rows) {
      const [kind, a] = row.rowKey.split('|');
      if (isHeaderRow(row.rowKey)) part.header = { value: json(row), etag: row.etag };
      else if (kind === 'held') part.held = true;
      else if (kind === 'actual') {
        const actual = json(row) as BilledSalesActual;
        part.actuals.set(actual.actualId, { value: actual, etag: row.etag });
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

