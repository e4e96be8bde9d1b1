import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { Posting } from '../contracts/posting';
import type { ImportPlan, ProposalLine } from '../domain/importPlan';
import { takeDownFor, type PostingRecord, type ProposalHeader } from '../domain/proposal';
import { commitToPartition } from './batches';
import { deleteIfPresent, isNotFound, isPreconditionFailed } from './conditions';
import { prefixEnd } from './keys';
import {
  actualEntity,
  actualRow,
  conditionalWrite,
  departedEntity,
  headerEntity,
  headerRow,
  heldEntity,
  heldOrDeparted,
  heldRow,
  isHeaderRow,
  json,
  lineEntity,
  postedEntity,
  type Holding,
  type PostedLine,
  type ProposalPartition,
  type Row,
  type Stored,
} from './proposalRows';

export type { Holding, PostedLine, ProposalPartition, Stored } from './proposalRows';

/** Called before each table transaction of a multi-transaction commit (crash tests stop the process there). */
export type BeforeBatch = (index: number, total: number) => Promise<void> | void;

/**
 * The proposals table: one partition per proposal, holding its header, the
 * actuals it holds, its lines and its postings (docs/storage.md). The store
 * owns every write to it; callers hand it a decision (a plan, a posting) and
 * it turns that into conditional table operations.
 */
export class ProposalStore {
  constructor(private readonly table: TableClient) {}

  async read(pk: string): Promise<ProposalPartition> {
    const part: ProposalPartition = {
      partitionKey: pk,
      header: undefined,
      held: false,
      actuals: new Map(),
      departed: new Map(),
      builds: new Map(),
      posted: new Map(),
    };
    const rows = this.table.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey', 'json'] } });
    for await (const row of rows) {
      const [kind, a] = row.rowKey.split('|');
      if (isHeaderRow(row.rowKey)) part.header = { value: json(row), etag: row.etag };
      else if (kind === 'held') part.held = true;
      else if (kind === 'actual') {
        const held = heldOrDeparted(row);
        if ('departed' in held) part.departed.set(held.departed.actualId, { value: held.departed, etag: row.etag });
        else part.actuals.set(held.actual.actualId, { value: held.actual, etag: row.etag });
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

  /** Whether the partition holds any actual (its held marker exists): one point read. */
  async holdsActuals(pk: string): Promise<boolean> {
    return (await this.row(pk, heldRow(pk))) !== undefined;
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
        const held = heldOrDeparted(row);
        if ('departed' in held) found.departed = { value: held.departed, etag: row.etag };
        else found.actual = { value: held.actual, etag: row.etag };
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

  /**
   * Writes an import plan: the held marker and parked actuals, departures and
   * lines first, the header last, with the ETag it was read with (the commit
   * point, docs/storage.md "Builds"). When the partition was `assumed` rather
   * than read, the marker is created (a 409 if the partition held actuals after
   * all, before anything is written) and the header is written even unchanged,
   * so that its ETag proves the header the plan used is still the current one;
   * no build can exist yet then, so its lines are created rather than upserted.
   *
   * The header goes as a Merge: headerEntity always carries every property of
   * the header row, so the row ends up exactly as with Replace, and Azurite
   * updates it in place instead of deleting and re-inserting it (its delete
   * costs time in proportion to the whole table).
   */
  async commitPlan(part: ProposalPartition, plan: ImportPlan, assumed: boolean, beforeBatch?: BeforeBatch): Promise<void> {
    const pk = part.partitionKey;
    const rows: TransactionAction[] = [];
    const holdsMore = plan.toPark.length + plan.toDepart.length > 0;
    if (holdsMore && assumed) rows.push(['create', heldEntity(pk)]);
    else if (holdsMore && !part.held) rows.push(['upsert', heldEntity(pk), 'Replace']);
    // A parked version and a departure share the actual's row: each replaces whichever the partition held, with its ETag.
    const etagOf = (actualId: string) => (part.actuals.get(actualId) ?? part.departed.get(actualId))?.etag;
    for (const a of plan.toPark) rows.push(conditionalWrite(actualEntity(pk, a), etagOf(a.actualId)));
    for (const d of plan.toDepart) rows.push(conditionalWrite(departedEntity(pk, d), etagOf(d.actualId)));
    const build = plan.header?.activeBuild;
    if (build)
      for (const line of plan.lines)
        rows.push(assumed ? ['create', lineEntity(pk, build, line)] : ['upsert', lineEntity(pk, build, line), 'Replace']);
    if (part.header && (plan.header || assumed)) {
      const header = { ...part.header.value, ...plan.header };
      await commitToPartition(this.table, rows, ['update', headerEntity(pk, header), 'Merge', { etag: part.header.etag }], beforeBatch);
    } else if (rows.length) {
      // No header to commit: parked actuals are plain data, each row guarded by its own ETag.
      await commitToPartition(this.table, rows, undefined, beforeBatch);
    }
  }

  /** Deletes the line rows of builds other than `activeBuild`, with their ETags, so a rebuild in flight keeps its rows. */
  async dropSupersededBuilds(part: ProposalPartition, activeBuild: string | null): Promise<void> {
    for (const [build, lines] of part.builds) {
      if (build === activeBuild) continue;
      for (const l of lines) {
        try {
          await deleteIfPresent(() => this.table.deleteEntity(part.partitionKey, l.rowKey, { etag: l.etag }));
        } catch (e) {
          if (!isPreconditionFailed(e)) throw e;
        }
      }
    }
  }

  /**
   * Records Finance's posting: the accounting amounts of every line (the
   * outbox rows, unsent) and then the header, Posted, with the ETag it was read
   * with: the commit point, as for builds. Returns the posted header.
   */
  async recordPosting(pk: string, header: Stored<ProposalHeader>, record: PostingRecord, lines: Posting['lines']): Promise<ProposalHeader> {
    const rows: TransactionAction[] = lines.map((l) => ['upsert', postedEntity(pk, { ...l, postingId: record.postingId }), 'Replace']);
    const posted: ProposalHeader = { ...header.value, status: 'Posted', reason: null, posting: record };
    await commitToPartition(this.table, rows, ['update', headerEntity(pk, posted), 'Replace', { etag: header.etag }]);
    return posted;
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
