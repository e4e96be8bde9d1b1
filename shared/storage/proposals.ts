import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { BilledSalesActual } from '../contracts/actual';
import type { ProposalLine } from '../domain/importPlan';
import type { PostingRecord, ProposalHeader } from '../domain/proposal';
import type { PostingLine } from '../contracts/posting';
import { encodeKeyPart, prefixEnd } from './keys';

/**
 * The proposals table: one partition per proposal (docs/storage.md).
 *   header                            the proposal header (status, active build, posting)
 *   actual|{actualId}                 latest version of each billed sales actual it holds
 *   line|{build}|{actualId}           its lines; only the header's activeBuild is visible
 *   posted|{postingId}|{actualId}     accounting details per actual, and the outbox flag
 */
export const HEADER = 'header';
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

/** Everything one proposal's partition holds, as read in one query. */
export interface ProposalPartition {
  partitionKey: string;
  header: Stored<ProposalHeader> | undefined;
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
    rowKey: HEADER,
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
    const part: ProposalPartition = { partitionKey: pk, header: undefined, actuals: new Map(), builds: new Map(), posted: new Map() };
    const rows = this.table.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey', 'json'] } });
    for await (const row of rows) {
      const [kind, a] = row.rowKey.split('|');
      if (row.rowKey === HEADER) part.header = { value: json(row), etag: row.etag };
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

  async header(pk: string): Promise<Stored<ProposalHeader> | undefined> {
    try {
      const row = await this.table.getEntity<Row>(pk, HEADER, { queryOptions: { select: ['RowKey', 'json'] } });
      return { value: json(row), etag: row.etag };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async createHeader(pk: string, h: ProposalHeader): Promise<void> {
    await this.table.createEntity(headerEntity(pk, h));
  }

  async replaceHeader(pk: string, h: ProposalHeader, etag: string): Promise<void> {
    await this.table.updateEntity(headerEntity(pk, h), 'Replace', { etag });
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
    try {
      return json(await this.table.getEntity<Row>(pk, rowKey, { queryOptions: { select: ['RowKey', 'json'] } })) as T;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }
}

/** Insert or, with the ETag it was read with, replace. */
export function conditionalWrite<E extends { partitionKey: string; rowKey: string }>(
  entity: E,
  etag: string | undefined,
): TransactionAction {
  return etag ? ['update', entity, 'Replace', { etag }] : ['create', entity];
}

export type { PostingRecord };
