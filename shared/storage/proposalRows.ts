import type { TransactionAction } from '@azure/data-tables';
import type { BilledSalesActual } from '../contracts/actual';
import type { Departed, ProposalLine } from '../domain/importPlan';
import type { ProposalHeader } from '../domain/proposal';
import type { PostingLine } from '../contracts/posting';
import { encodeKeyPart } from './keys';
import { PAGE_CHARS, pageEntities, recordKey, recordsOfRow, type PagedRow } from './pages';

/**
 * The rows of the proposals table, their keys and shapes: what ProposalStore
 * writes. One partition per proposal (docs/storage.md).
 *   header                            the proposal header (status, active build, posting)
 *   actual|{actualId}                 a version of a billed sales actual it holds that no line row
 *                                     carries (parked), or the departure of one that is no longer its
 *                                     own (see Departed); the lines of its builds carry the rest
 *   line|{build}|{actualId}           a page of its lines, keyed by the last actual on it (see linePageEntities);
 *                                     only the header's activeBuild is visible
 *   posted|{postingId}|{actualId}     a page of a posting's accounting details per actual, keyed by the last
 *                                     actual on it (see shared/storage/pages.ts)
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
/** The key of an actual's own line row (before pages), from which its page is found. */
export const lineRow = (build: string, actualId: string) => recordKey(linesPrefix(build), actualId);

export interface Stored<T> {
  value: T;
  etag: string;
}

/** A line's accounting amounts as Finance posted them (the outbox entry, not the row, says whether they were sent). */
export interface PostedLine extends PostingLine {
  postingId: string;
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
  /** The actual's own row: a parked version, or its departure. */
  actual: Stored<BilledSalesActual> | undefined;
  departed: Stored<Departed> | undefined;
  /** The version on the active build's lines, which may have no row of its own. */
  onLines: BilledSalesActual | undefined;
}

/** The version the partition holds of the actual (its row or its lines, the later), or undefined when it holds none or a departure outranks it. */
export function heldVersion(h: Holding): BilledSalesActual | undefined {
  const parked = [h.actual?.value, h.onLines].filter((a) => a !== undefined).sort((a, b) => b.version - a.version)[0];
  return parked && parked.version > (h.departed?.value.through ?? -1) ? parked : undefined;
}

/**
 * The versions a partition holds: its parked rows and the actuals its builds'
 * lines carry (a version on a line has no row of its own). What an import plan
 * takes as `known`, in the periodic import and in the fast path's check alike.
 */
export function knownActuals(part: ProposalPartition): BilledSalesActual[] {
  const onLines = [...part.builds.values()].flatMap((rows) => rows.map((r) => r.line.actual));
  return [...[...part.actuals.values()].map((s) => s.value), ...onLines];
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
  /** Line rows of every build, keyed by build id: the actuals on them are held too, whether or not they have a row of their own. */
  builds: Map<string, { rowKey: string; etag: string; line: ProposalLine }[]>;
  posted: Map<string, Stored<PostedLine>[]>;
}

export type Row = PagedRow;

export const json = (row: Row) => JSON.parse(row.json ?? 'null');

/** An `actual|` row holds either a parked version or a departure. */
export function heldOrDeparted(row: Row): { actual: BilledSalesActual } | { departed: Departed } {
  const held = json(row) as BilledSalesActual | { departed: Departed };
  return 'departed' in held ? { departed: held.departed } : { actual: held };
}

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
export const linesPrefix = (build: string) => `line|${build}|`;
export const postedPrefix = (postingId: string) => `posted|${postingId}|`;
export const lineIdOf = (l: ProposalLine) => l.actual.actualId;
export const postedIdOf = (p: PostedLine) => p.actualId;

/** A build's lines as pages (shared/storage/pages.ts): about 24 lines to a row. */
export const linePageEntities = (pk: string, build: string, lines: readonly ProposalLine[], pageChars = PAGE_CHARS) =>
  pageEntities(pk, linesPrefix(build), lines, lineIdOf, pageChars);

/** A posting's accounting amounts per actual as pages (shared/storage/pages.ts): about 50 to a row. */
export const postedPageEntities = (pk: string, postingId: string, posted: readonly PostedLine[], pageChars = PAGE_CHARS) =>
  pageEntities(pk, postedPrefix(postingId), posted, postedIdOf, pageChars);

export const linesOfRow = (row: PagedRow) => recordsOfRow<ProposalLine>(row);

/** Insert or, with the ETag it was read with, replace. */
export function conditionalWrite<E extends { partitionKey: string; rowKey: string }>(
  entity: E,
  etag: string | undefined,
): TransactionAction {
  return etag ? ['update', entity, 'Replace', { etag }] : ['create', entity];
}
