import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { BilledSalesActual } from '../contracts/actual';
import type { Posting } from '../contracts/posting';
import type { ImportPlan, ProposalLine } from '../domain/importPlan';
import { takeDownFor, type PostingRecord, type ProposalHeader } from '../domain/proposal';
import { commitToPartition } from './batches';
import { PAGE_CHARS, readRecordOf, readRecords, recordsOfRow } from './pages';
import { deleteIfPresent, goneIsChanged, isNotFound, isPreconditionFailed } from './conditions';
import type { ProposalStateIndex } from './proposalStates';
import {
  actualEntity,
  actualRow,
  conditionalWrite,
  departedEntity,
  headerEntity,
  headerRow,
  heldEntity,
  heldOrDeparted,
  heldVersion,
  heldRow,
  isHeaderRow,
  json,
  linePageEntities,
  lineIdOf,
  linesOfRow,
  linesPrefix,
  postedIdOf,
  postedPageEntities,
  postedPrefix,
  type Holding,
  type PostedLine,
  type ProposalPartition,
  type Row,
  type Stored,
} from './proposalRows';

export type { Holding, PostedLine, ProposalPartition, Stored } from './proposalRows';
export { heldVersion, knownActuals } from './proposalRows';

const versionOf = (a: BilledSalesActual) => `${a.actualId}@${a.version}`;

/**
 * Actuals whose latest version only the lines of builds inactive after this
 * commit carry (Import from staging drops those builds next): each gets its
 * own row in the commit, before the header, so dropping them never forgets
 * what the proposal holds. A row of that same version is written again, with
 * the ETag read, so that a concurrent dropRedundantRows (which saw those lines
 * active) fails on it instead of deleting it.
 */
function onlyOnDroppedBuilds(part: ProposalPartition, plan: ImportPlan): BilledSalesActual[] {
  const activeAfter = plan.header ? plan.header.activeBuild : (part.header?.value.activeBuild ?? null);
  const kept = plan.header?.activeBuild ? plan.lines : activeAfter ? (part.builds.get(activeAfter) ?? []).map((r) => r.line) : [];
  // Rank as the plan ranks: a later version wins, and a departure outranks the version it names.
  const safe = new Map<string, number>();
  const record = (id: string, rank: number) => safe.set(id, Math.max(rank, safe.get(id) ?? -1));
  for (const { value } of part.departed.values()) record(value.actualId, 2 * value.through + 1);
  for (const a of plan.toPark) record(a.actualId, 2 * a.version);
  for (const d of plan.toDepart) record(d.actualId, 2 * d.through + 1);
  for (const l of kept) record(l.actual.actualId, 2 * l.actual.version);
  const orphans = new Map<string, BilledSalesActual>();
  for (const [build, lines] of part.builds) {
    if (build === activeAfter) continue;
    for (const { line } of lines) {
      const a = line.actual;
      // A row of the same version is written again: a concurrent import may be dropping it as redundant with these very lines.
      const row = part.actuals.get(a.actualId)?.value;
      const covered = (safe.get(a.actualId) ?? -1) >= 2 * a.version || (row !== undefined && row.version > a.version);
      if (!covered && a.version > (orphans.get(a.actualId)?.version ?? -1)) orphans.set(a.actualId, a);
    }
  }
  return [...orphans.values()];
}

/** A header as written, and the ETag of the write (undefined if the service sent none). */
export type Written = { value: ProposalHeader; etag: string | undefined };

/** Called before each table transaction of a multi-transaction commit (crash tests stop the process there). */
export type BeforeBatch = (index: number, total: number) => Promise<void> | void;

/**
 * The proposals table: one partition per proposal, holding its header, the
 * actuals it holds, its lines and its postings (docs/storage.md). The store
 * owns every write to it; callers hand it a decision (a plan, a posting) and
 * it turns that into conditional table operations.
 */
export class ProposalStore {
  constructor(
    private readonly table: TableClient,
    private readonly states: ProposalStateIndex,
    private readonly now: () => Date = () => new Date(),
    private readonly pageChars = PAGE_CHARS,
  ) {}

  /** The header as it will be written: `stateSince` kept while the status stays, stamped when it changes. */
  private stamp(old: ProposalHeader | undefined, next: ProposalHeader): ProposalHeader {
    if (old && old.status === next.status && old.stateSince) return { ...next, stateSince: old.stateSince };
    return { ...next, stateSince: this.now().toISOString() };
  }

  /**
   * A header write, kept in step with the state index: the entry of the new
   * state first, then the write (the commit point), then the old entry goes.
   * A crash in between leaves an extra entry, never a missing one; readers drop
   * extras (shared/storage/proposalStates.ts).
   */
  private async moving<T>(pk: string, old: ProposalHeader | undefined, next: ProposalHeader, write: (h: ProposalHeader) => Promise<T>) {
    const h = this.stamp(old, next);
    const moved = h.stateSince !== old?.stateSince;
    if (moved) await this.states.enter(pk, h.status, h.stateSince!);
    const result = await write(h);
    if (moved && old?.stateSince) await this.states.leave(pk, old.status, old.stateSince);
    return { result, header: h };
  }

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
        for (const line of linesOfRow(row)) list.push({ rowKey: row.rowKey, etag: row.etag, line });
        part.builds.set(a!, list);
      } else if (kind === 'posted') {
        const list = part.posted.get(a!) ?? [];
        for (const value of recordsOfRow<PostedLine>(row)) list.push({ value, etag: row.etag });
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

  /** Creates the header; returns it as written, with the ETag of the write (undefined if the service sent none). */
  async createHeader(pk: string, h: ProposalHeader): Promise<Written> {
    const written = await this.moving(pk, undefined, h, (s) => this.table.createEntity(headerEntity(pk, s)));
    return { value: written.header, etag: written.result.etag };
  }

  /** Replaces the header `old` read, with its ETag; returns it as written, with the ETag of the write. */
  async replaceHeader(pk: string, old: Stored<ProposalHeader>, h: ProposalHeader): Promise<Written> {
    const written = await this.moving(pk, old.value, h, (s) => this.table.updateEntity(headerEntity(pk, s), 'Replace', { etag: old.etag }));
    return { value: written.header, etag: written.result.etag };
  }

  /**
   * What the proposal holds of one actual, and its header, in one query: what a
   * newer version of the actual must know before it may leave this proposal.
   */
  async holding(pk: string, actualId: string): Promise<Holding> {
    const filter = odata`PartitionKey eq ${pk} and (RowKey eq ${headerRow(pk)} or RowKey eq ${actualRow(actualId)})`;
    const found: Holding = { header: undefined, actual: undefined, departed: undefined, onLines: undefined };
    for await (const row of this.table.listEntities<Row>({ queryOptions: { filter, select: ['RowKey', 'json'] } })) {
      if (isHeaderRow(row.rowKey)) found.header = { value: json(row), etag: row.etag };
      else {
        const held = heldOrDeparted(row);
        if ('departed' in held) found.departed = { value: held.departed, etag: row.etag };
        else found.actual = { value: held.actual, etag: row.etag };
      }
    }
    // An actual on the lines has no row of its own when it went onto them directly: its line says which version is on show.
    const build = found.header?.value.activeBuild;
    if (build) found.onLines = (await this.lineOf(pk, build, actualId))?.actual;
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
    const held = heldVersion(h);
    // A newer version back on this proposal means the register moved on: the caller's register write fails and it decides again.
    if (held && held.version > through) return;
    if (!held && (h.departed?.value.through ?? -1) >= through) return; // already gone (a crashed delivery, redelivered)
    const rows: TransactionAction[] = [
      ['upsert', heldEntity(pk), 'Replace'],
      conditionalWrite(departedEntity(pk, { actualId, through }), (h.actual ?? h.departed)?.etag),
    ];
    // The header is written even unchanged: a new ETag is what stops the imports and postings that read it before.
    const stored = h.header;
    if (!stored) return void (await goneIsChanged(() => this.table.submitTransaction(rows)));
    const header = held ? takeDownFor(stored.value, actualId) : stored.value;
    await this.moving(pk, stored.value, header, (s) =>
      goneIsChanged(() => this.table.submitTransaction([...rows, ['update', headerEntity(pk, s), 'Merge', { etag: stored.etag }]])),
    );
  }

  /**
   * Writes an import plan: the held marker and parked actuals (those no new
   * line carries, and those only the lines of a build about to be dropped
   * carry), departures and lines first, the header last, with the ETag it was read with (the commit
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
    // A version going onto the new build's lines needs no row of its own: the line carries it.
    const build = plan.header?.activeBuild;
    const onNewLines = new Set(build ? plan.lines.map((l) => versionOf(l.actual)) : []);
    const toRecord = [...plan.toPark.filter((a) => !onNewLines.has(versionOf(a))), ...onlyOnDroppedBuilds(part, plan)];
    const rows: TransactionAction[] = [];
    const holdsMore = plan.toPark.length + plan.toDepart.length + toRecord.length > 0;
    if (holdsMore && assumed) rows.push(['create', heldEntity(pk)]);
    else if (holdsMore && !part.held) rows.push(['upsert', heldEntity(pk), 'Replace']);
    // A parked version and a departure share the actual's row: each replaces whichever the partition held, with its ETag.
    const etagOf = (actualId: string) => (part.actuals.get(actualId) ?? part.departed.get(actualId))?.etag;
    for (const a of toRecord) rows.push(conditionalWrite(actualEntity(pk, a), etagOf(a.actualId)));
    for (const d of plan.toDepart) rows.push(conditionalWrite(departedEntity(pk, d), etagOf(d.actualId)));
    if (build) {
      const pages = linePageEntities(pk, build, plan.lines, this.pageChars);
      // Rows of this same build cut another way (an import that died before its commit, one line per row) would let
      // one actual's lookup land on a row without it. Not yet on show, they go in the commit; on show, they are whole.
      const keys = new Set(pages.map((p) => p.rowKey));
      if (build !== part.header?.value.activeBuild)
        for (const rowKey of new Set((part.builds.get(build) ?? []).map((r) => r.rowKey)))
          if (!keys.has(rowKey)) rows.push(['delete', { partitionKey: pk, rowKey }]);
      for (const page of pages) rows.push(assumed ? ['create', page] : ['upsert', page, 'Replace']);
    }
    const stored = part.header;
    if (stored && (plan.header || assumed)) {
      await this.moving(pk, stored.value, { ...stored.value, ...plan.header }, (h) =>
        goneIsChanged(() =>
          commitToPartition(this.table, rows, ['update', headerEntity(pk, h), 'Merge', { etag: stored.etag }], beforeBatch),
        ),
      );
    } else if (rows.length) {
      // No header to commit: parked actuals are plain data, each row guarded by its own ETag.
      await goneIsChanged(() => commitToPartition(this.table, rows, undefined, beforeBatch));
    }
  }

  /** Deletes the line rows of builds other than `activeBuild`, with their ETags, so a rebuild in flight keeps its rows. */
  async dropSupersededBuilds(part: ProposalPartition, activeBuild: string | null): Promise<void> {
    for (const [build, lines] of part.builds) {
      if (build === activeBuild) continue;
      const rows = new Map(lines.map((l) => [l.rowKey, l])); // a page carries several lines
      for (const l of rows.values()) {
        try {
          await deleteIfPresent(() => this.table.deleteEntity(part.partitionKey, l.rowKey, { etag: l.etag }));
        } catch (e) {
          if (!isPreconditionFailed(e)) throw e;
        }
      }
    }
  }

  /**
   * Deletes the actual rows (parked versions, departures) that the active
   * build's lines outrank, with the ETags read: a row changed since (a newer
   * version, a departure, or written again by an import that drops this build)
   * is kept. What the partition stores then does not depend on whether an
   * actual was parked, or departed, before its line was built.
   */
  async dropRedundantRows(part: ProposalPartition, activeLines: readonly ProposalLine[]): Promise<void> {
    const onLines = new Map(activeLines.map((l) => [l.actual.actualId, l.actual.version]));
    const outranked = [
      ...[...part.actuals.values()]
        .filter((r) => r.value.version <= (onLines.get(r.value.actualId) ?? -1))
        .map((r) => ({ id: r.value.actualId, etag: r.etag })),
      ...[...part.departed.values()]
        .filter((r) => r.value.through < (onLines.get(r.value.actualId) ?? -1))
        .map((r) => ({ id: r.value.actualId, etag: r.etag })),
    ];
    for (const { id, etag } of outranked) {
      try {
        await deleteIfPresent(() => this.table.deleteEntity(part.partitionKey, actualRow(id), { etag }));
      } catch (e) {
        if (!isPreconditionFailed(e)) throw e;
      }
    }
  }

  /**
   * Records Finance's posting: the accounting amounts of every line (the
   * outbox rows, unsent) and then the header, Posted, with the ETag it was read
   * with: the commit point, as for builds. Returns the posted header.
   */
  async recordPosting(pk: string, header: Stored<ProposalHeader>, record: PostingRecord, lines: Posting['lines']): Promise<ProposalHeader> {
    const posted = lines.map((l) => ({ ...l, postingId: record.postingId }));
    const rows = postedPageEntities(pk, record.postingId, posted, this.pageChars).map((page): TransactionAction => [
      'upsert',
      page,
      'Replace',
    ]);
    const next: ProposalHeader = { ...header.value, status: 'Posted', reason: null, posting: record };
    const written = await this.moving(pk, header.value, next, (h) =>
      commitToPartition(this.table, rows, ['update', headerEntity(pk, h), 'Replace', { etag: header.etag }]),
    );
    return written.header;
  }

  /** A build's lines in line order. */
  async lines(pk: string, build: string): Promise<ProposalLine[]> {
    return (await readRecords(this.table, pk, linesPrefix(build), lineIdOf)).sort((a, b) => a.lineNumber - b.lineNumber);
  }

  /** One actual's line in a build, or undefined: one request. */
  lineOf(pk: string, build: string, actualId: string): Promise<ProposalLine | undefined> {
    return readRecordOf(this.table, pk, linesPrefix(build), actualId, lineIdOf);
  }

  /** A posting's accounting amounts per actual; the first `limit` only, if given. */
  postedLines(pk: string, postingId: string, limit?: number): Promise<PostedLine[]> {
    return readRecords(this.table, pk, postedPrefix(postingId), postedIdOf, limit);
  }

  /** One actual's accounting amounts in a posting, or undefined: one request. */
  postedOf(pk: string, postingId: string, actualId: string): Promise<PostedLine | undefined> {
    return readRecordOf(this.table, pk, postedPrefix(postingId), actualId, postedIdOf);
  }
}
