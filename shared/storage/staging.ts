import { createHash } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { BilledSalesActual } from '../contracts/actual';
import type { Departed } from '../domain/importPlan';
import type { ProposalHeader } from '../domain/proposal';
import { createIfAbsent, isConflict } from './conditions';
import { chunk, deleteImmutableRows, MAX_BATCH } from './batches';
import { encodeKeyPart, prefixEnd, proposalPartition, SEPARATOR, versionKey } from './keys';

/**
 * The actuals staging table: the pending work of Import from staging and
 * nothing else. Rows are spread over SHARDS partitions by a hash of their
 * proposal, so a run reads only what is pending, in pages, and all rows of one
 * proposal sit together in one shard, in key order.
 *
 * RowKey = {proposalPartition}|a|{actualId}|{version}   a staged actual (a version the register accepted)
 *        = {proposalPartition}|b|{digest}               several staged actuals of the proposal, staged by one batch
 *                                                       of deliveries; the digest is of their ids and versions
 *        = {proposalPartition}|h|{version}              "header changed, evaluate again"
 *        = {proposalPartition}|l|{actualId}|{version}   "this actual is not the proposal's through that version"
 *
 * A flag row may carry the header as syncInvoiceProposal wrote it, with the
 * ETag of that write, so the import need not read the header again: it writes
 * the header with that ETag, and a header changed since fails with 412 and is
 * then read afresh.
 *
 * A row's content is fixed by its key (a new version is a new row), so deleting
 * a row after its content has been committed can never lose a newer delivery.
 */
export const SHARDS = 16;

export function shardOf(partition: string): string {
  const n = createHash('sha256').update(partition).digest().readUInt32BE(0) % SHARDS;
  return `s${n.toString().padStart(2, '0')}`;
}

export const allShards = (): string[] => Array.from({ length: SHARDS }, (_, i) => `s${i.toString().padStart(2, '0')}`);

/** The first and last shard partitions: a range between them is the whole pending work, in one query. */
export const SHARD_RANGE = { first: allShards()[0]!, last: allShards()[SHARDS - 1]! } as const;

export interface StagedRow {
  partitionKey: string;
  rowKey: string;
  proposal: string;
  actual?: BilledSalesActual;
  /** On a bundle row: the staged actuals it carries. */
  bundle?: BilledSalesActual[];
  /** On a departure row: the actual that left, through which version. */
  departure?: Departed;
  /** On a flag row: the header as written for that version, with the write's ETag. */
  header?: HeaderSnapshot;
}

/** A departure found by a batch of deliveries, for the proposal it names. */
export interface DepartureToStage {
  legalEntity: string;
  proposalId: string;
  departure: Departed;
}

export interface HeaderSnapshot {
  value: ProposalHeader;
  etag: string;
}

/** All staged rows of one proposal, as found in one shard. */
export interface StagedGroup {
  proposal: string;
  rows: StagedRow[];
}

type Entity = {
  partitionKey: string;
  rowKey: string;
  proposal: string;
  json?: string;
  bundle?: string;
  header?: string;
  headerEtag?: string;
  departure?: string;
};

/** A header snapshot larger than this (characters of JSON) is left out of the flag; the import reads the header instead. */
const MAX_SNAPSHOT = 30_000;

/** The staged row of one version of a billed sales actual, alone in its proposal (see stagedEntities). */
export function stagedActualEntity(a: BilledSalesActual): Entity & { json: string } {
  const proposal = proposalPartition(a.legalEntity, a.proposalId);
  return {
    partitionKey: shardOf(proposal),
    rowKey: [proposal, 'a', encodeKeyPart(a.actualId), versionKey(a.version)].join(SEPARATOR),
    proposal,
    json: JSON.stringify(a),
  };
}

/**
 * The staged rows of the accepted actuals of one batch of deliveries: an actual alone in its proposal (or in
 * its bundle) gets a row of its own; several of one proposal share bundle rows of up to MAX_BUNDLE characters,
 * so the import reads and deletes one row for them instead of one each. A bundle's key is a digest of the ids
 * and versions it carries, and a version the register accepted has one content, so the content is still fixed
 * by the key; an actual in two rows (a redelivery in another batch) is one version to the import plan.
 */
export function stagedEntities(actuals: readonly BilledSalesActual[]): Entity[] {
  const byProposal = new Map<string, Map<string, BilledSalesActual>>();
  for (const a of actuals) {
    const proposal = proposalPartition(a.legalEntity, a.proposalId);
    const versions = byProposal.get(proposal) ?? new Map<string, BilledSalesActual>();
    versions.set(`${a.actualId}@${a.version}`, a); // a copy of one version in the same batch is staged once
    byProposal.set(proposal, versions);
  }
  return [...byProposal].flatMap(([proposal, versions]) =>
    bundled([...versions.values()]).map((part) =>
      part.length === 1
        ? stagedActualEntity(part[0]!)
        : {
            partitionKey: shardOf(proposal),
            rowKey: [proposal, 'b', bundleDigest(part)].join(SEPARATOR),
            proposal,
            bundle: JSON.stringify(part),
          },
    ),
  );
}

/** A string property holds at most 64 KiB (32,768 UTF-16 code units); a bundle stays well inside it. */
const MAX_BUNDLE = 30_000;

function bundled(list: readonly BilledSalesActual[]): BilledSalesActual[][] {
  const parts: BilledSalesActual[][] = [];
  let current: BilledSalesActual[] = [];
  let size = 2;
  for (const a of list) {
    const n = JSON.stringify(a).length + 1;
    if (current.length && size + n > MAX_BUNDLE) {
      parts.push(current);
      current = [];
      size = 2;
    }
    current.push(a);
    size += n;
  }
  if (current.length) parts.push(current);
  return parts;
}

function bundleDigest(part: readonly BilledSalesActual[]): string {
  const ids = part.map((a) => `${a.actualId}\n${a.version}`).sort();
  return createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32);
}

/** The departure row of an actual from a proposal (what stageDeparture writes). */
export function departureEntity(legalEntity: string, proposalId: string, d: Departed): Entity {
  const proposal = proposalPartition(legalEntity, proposalId);
  return {
    partitionKey: shardOf(proposal),
    rowKey: [proposal, 'l', encodeKeyPart(d.actualId), versionKey(d.through)].join(SEPARATOR),
    proposal,
    departure: JSON.stringify(d),
  };
}

/** The "header changed, evaluate again" row (what flagHeader writes), with the header as written when known. */
export function headerFlagEntity(legalEntity: string, proposalId: string, version: number, snapshot?: HeaderSnapshot): Entity {
  const proposal = proposalPartition(legalEntity, proposalId);
  const row: Entity = { partitionKey: shardOf(proposal), rowKey: [proposal, 'h', versionKey(version)].join(SEPARATOR), proposal };
  const header = snapshot && JSON.stringify(snapshot.value);
  return header && header.length <= MAX_SNAPSHOT ? { ...row, header, headerEtag: snapshot.etag } : row;
}

function stagedRow(e: Entity): StagedRow {
  return {
    partitionKey: e.partitionKey,
    rowKey: e.rowKey,
    proposal: e.proposal,
    ...(e.json ? { actual: JSON.parse(e.json) as BilledSalesActual } : {}),
    ...(e.bundle ? { bundle: JSON.parse(e.bundle) as BilledSalesActual[] } : {}),
    ...(e.departure ? { departure: JSON.parse(e.departure) as Departed } : {}),
    ...(e.header && e.headerEtag ? { header: { value: JSON.parse(e.header) as ProposalHeader, etag: e.headerEtag } } : {}),
  };
}

/** The staged actuals a row carries (none on a flag or a departure). */
export const stagedActualsOf = (r: StagedRow): BilledSalesActual[] => (r.actual ? [r.actual] : (r.bundle ?? []));

/** A flag row: "the header arrived or changed". */
export const isHeaderFlag = (r: StagedRow): boolean => !r.actual && !r.bundle && !r.departure;

export class StagingStore {
  constructor(private readonly table: TableClient) {}

  /** Tells the proposal's next import that an actual is not its own through a version (see Departed). */
  async stageDeparture(legalEntity: string, proposalId: string, d: Departed): Promise<void> {
    const entity = departureEntity(legalEntity, proposalId, d);
    await createIfAbsent(() => this.table.createEntity(entity));
  }

  /**
   * Asks the next import to evaluate this proposal again (its header arrived or
   * changed); `snapshot` is the header just written and the ETag of that write.
   */
  async flagHeader(legalEntity: string, proposalId: string, version: number, snapshot?: HeaderSnapshot): Promise<void> {
    const entity = headerFlagEntity(legalEntity, proposalId, version, snapshot);
    await createIfAbsent(() => this.table.createEntity(entity));
  }

  /**
   * Stages what one batch of deliveries accepted (see stagedEntities) and the departures it found, in one
   * transaction per shard and 100 rows. Rows are only ever created: if one already exists (a redelivery after
   * a crash), that transaction fails whole and its rows are created one by one, skipping those present.
   */
  async stageTogether(actuals: readonly BilledSalesActual[], departures: readonly DepartureToStage[]): Promise<void> {
    const entities = [...stagedEntities(actuals), ...departures.map((d) => departureEntity(d.legalEntity, d.proposalId, d.departure))];
    const byShard = new Map<string, Map<string, Entity>>();
    for (const e of entities) {
      const shard = byShard.get(e.partitionKey) ?? new Map<string, Entity>();
      shard.set(e.rowKey, e);
      byShard.set(e.partitionKey, shard);
    }
    const batches = [...byShard.values()].flatMap((rows) => chunk([...rows.values()], MAX_BATCH));
    await Promise.all(
      batches.map(async (batch) => {
        if (batch.length === 1) return createIfAbsent(() => this.table.createEntity(batch[0]!));
        try {
          await this.table.submitTransaction(batch.map((e) => ['create', e] as TransactionAction));
        } catch (e) {
          if (!isConflict(e)) throw e;
          for (const row of batch) await createIfAbsent(() => this.table.createEntity(row));
        }
      }),
    );
  }

  async remove(rows: readonly { partitionKey: string; rowKey: string }[]): Promise<void> {
    await deleteImmutableRows(this.table, rows);
  }

  /**
   * Streams every staged row, page by page, and yields each proposal's rows together: one range query over the
   * shard partitions, so a run that finds nothing pending pays one request instead of one per shard (Table Storage
   * answers a query across partitions in key order; a page may end, even empty, where it crosses a partition).
   * Keys of one proposal share a prefix within its shard, so its rows are contiguous and a group is complete when
   * the next proposal starts.
   */
  async *groups(pageSize = 1000): AsyncGenerator<StagedGroup> {
    const pages = this.table
      .listEntities<Entity>({
        queryOptions: { filter: odata`PartitionKey ge ${SHARD_RANGE.first} and PartitionKey le ${SHARD_RANGE.last}` },
      })
      .byPage({ maxPageSize: pageSize });
    let current: StagedGroup | undefined;
    for await (const page of pages) {
      for (const e of page) {
        const row = stagedRow(e);
        if (current && current.proposal !== row.proposal) {
          yield current;
          current = undefined;
        }
        (current ??= { proposal: row.proposal, rows: [] }).rows.push(row);
      }
    }
    if (current) yield current;
  }

  /** The staged rows of one proposal only, in key order: one range query in its shard (the import fast path). */
  async group(proposal: string): Promise<StagedGroup> {
    const prefix = `${proposal}${SEPARATOR}`;
    const filter = odata`PartitionKey eq ${shardOf(proposal)} and RowKey ge ${prefix} and RowKey lt ${prefixEnd(prefix)}`;
    const rows: StagedRow[] = [];
    for await (const e of this.table.listEntities<Entity>({ queryOptions: { filter } })) rows.push(stagedRow(e));
    return { proposal, rows };
  }
}
