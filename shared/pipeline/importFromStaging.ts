import { planImport, type ImportPlan } from '../domain/importPlan';
import { MAX_BATCH } from '../storage/batches';
import { withOptimisticRetry } from '../storage/conditions';
import { parseProposalPartition, proposalPartition } from '../storage/keys';
import { knownActuals, type ProposalPartition } from '../storage/proposals';
import { isHeaderFlag, stagedActualsOf, type StagedGroup, type StagedRow, type StagingStore } from '../storage/staging';
import type { Logger, Runtime } from '../runtime';
import { inParallel } from './inParallel';

export type ProposalOutcome = 'LinesCreated' | 'AwaitingLines' | 'Error' | 'WaitingForHeader' | 'Unchanged' | 'Posted';

export interface ImportSummary {
  proposals: number;
  stagedRows: number;
  outcomes: Record<ProposalOutcome, number>;
  linesWritten: number;
  refused: number;
}

export interface ImportOptions {
  /** Proposals imported at once. */
  concurrency?: number;
  /** Called before each table transaction of a proposal (crash tests stop the process here). */
  beforeBatch?: (proposal: string, index: number, total: number) => Promise<void> | void;
}

function outcomeOf(part: ProposalPartition, plan: ImportPlan): ProposalOutcome {
  const header = part.header?.value;
  if (!header) return 'WaitingForHeader';
  if (header.status === 'Posted') return 'Posted';
  return plan.header ? plan.header.status : 'Unchanged';
}

/**
 * The partition as the staged rows describe it, without reading it: the header from the newest flag row
 * (as syncInvoiceProposal wrote it, with that write's ETag) or from one point read, and nothing held.
 * Only for groups that stage actuals: parking them creates the held marker, which checks the assumption.
 * And only for groups with a flag: without one, the header has not arrived or an earlier import has seen
 * it (and may have parked actuals), and reading the partition whole costs one query, as the header's point
 * read would, without the risk of a failed first attempt.
 */
async function assumedPartition(rt: Runtime, group: StagedGroup): Promise<ProposalPartition | undefined> {
  const flag = group.rows.filter(isHeaderFlag).at(-1); // key order: the newest version last
  if (!flag || !group.rows.some((r) => !isHeaderFlag(r))) return undefined;
  const header = flag.header ?? (await rt.proposals.header(group.proposal));
  return {
    partitionKey: group.proposal,
    header,
    held: false,
    actuals: new Map(),
    departed: new Map(),
    builds: new Map(),
    posted: new Map(),
  };
}

const beforeBatchOf = (options: ImportOptions, proposal: string) =>
  options.beforeBatch && ((i: number, n: number) => options.beforeBatch!(proposal, i, n));

async function importProposal(rt: Runtime, group: StagedGroup, options: ImportOptions, log: Logger, sweeper: StagedRowSweeper) {
  const staged = group.rows.flatMap(stagedActualsOf);
  const leaving = group.rows.flatMap((r) => (r.departure ? [r.departure] : []));
  const { legalEntity, proposalId } = parseProposalPartition(group.proposal);
  const name = `proposal ${legalEntity}/${proposalId}`;

  // A proposal seen for the first time (the common case) is imported without reading its partition;
  // if that assumption fails (409 on the held marker, 412 on the header), the retry reads it whole.
  const { part, plan } = await withOptimisticRetry(`import of ${name}`, async (attempt) => {
    const assumed = attempt === 1 ? await assumedPartition(rt, group) : undefined;
    if (assumed) {
      const plan = planImport({ header: assumed.header?.value, known: [], staged, leaving });
      if (plan.toPark.length || plan.toDepart.length) {
        await rt.proposals.commitPlan(assumed, plan, true, beforeBatchOf(options, group.proposal));
        return { part: assumed, plan };
      }
    }
    const part = await rt.proposals.read(group.proposal);
    const known = knownActuals(part);
    const departed = [...part.departed.values()].map((s) => s.value);
    const plan = planImport({ header: part.header?.value, known, departed, staged, leaving });
    await rt.proposals.commitPlan(part, plan, false, beforeBatchOf(options, group.proposal));
    return { part, plan };
  });

  for (const { actual, reason } of plan.refused) {
    await rt.quarantine.keep({
      source: 'import-from-staging',
      messageId: `${actual.actualId}@${actual.version}`,
      reason,
      raw: JSON.stringify(actual),
      now: rt.now(),
    });
    log.warn(`${name}: ${reason}`);
  }
  // Actual rows the active lines now outrank, then old builds, go before the staged rows do: a crash in between leaves
  // the rows staged, so the next run reads the partition again and finishes the clean-up (the other way round,
  // nothing would ever come back for it).
  const activeBuild = plan.header ? plan.header.activeBuild : (part.header?.value.activeBuild ?? null);
  const activeLines = plan.header?.activeBuild ? plan.lines : (part.builds.get(activeBuild ?? '') ?? []).map((r) => r.line);
  if (part.actuals.size + part.departed.size && activeLines.length) await rt.proposals.dropRedundantRows(part, activeLines);
  if (part.builds.size > (activeBuild && part.builds.has(activeBuild) ? 1 : 0)) await rt.proposals.dropSupersededBuilds(part, activeBuild);
  await sweeper.remove(group.rows);

  const outcome = outcomeOf(part, plan);
  if (plan.header) log.info(`${name}: ${plan.header.status}${plan.header.reason ? ` (${plan.header.reason})` : ''}`);
  return { outcome, lines: plan.lines.length, refused: plan.refused.length };
}

/**
 * Deletes consumed staged rows in transactions of up to 100 per shard, across proposals, instead of one
 * transaction per proposal. Rows wait here only after their proposal is committed; a crash before they
 * are deleted leaves them staged, and the next run finds them already applied (Unchanged) and deletes them.
 */
class StagedRowSweeper {
  private readonly waiting = new Map<string, StagedRow[]>();
  constructor(private readonly staging: StagingStore) {}

  async remove(rows: readonly StagedRow[]): Promise<void> {
    for (const row of rows) {
      const list = this.waiting.get(row.partitionKey) ?? [];
      list.push(row);
      this.waiting.set(row.partitionKey, list);
      if (list.length >= MAX_BATCH) await this.staging.remove(list.splice(0, MAX_BATCH));
    }
  }

  async flush(): Promise<void> {
    for (const [shard, list] of this.waiting) {
      this.waiting.delete(shard);
      if (list.length) await this.staging.remove(list);
    }
  }
}

/**
 * Import from staging: reads only the staging table (pending work), and gives
 * each proposal with staged rows all of its lines in one step, or none with a
 * visible reason. A proposal that fails stays staged and the run goes on; the
 * run then throws so the failure is seen.
 */
export async function importFromStaging(rt: Runtime, log: Logger, options: ImportOptions = {}): Promise<ImportSummary> {
  const summary: ImportSummary = {
    proposals: 0,
    stagedRows: 0,
    outcomes: { LinesCreated: 0, AwaitingLines: 0, Error: 0, WaitingForHeader: 0, Unchanged: 0, Posted: 0 },
    linesWritten: 0,
    refused: 0,
  };
  const sweeper = new StagedRowSweeper(rt.staging);
  try {
    const importEach = async (group: StagedGroup) => {
      const result = await importProposal(rt, group, options, log, sweeper);
      summary.proposals++;
      summary.stagedRows += group.rows.length;
      summary.outcomes[result.outcome]++;
      summary.linesWritten += result.lines;
      summary.refused += result.refused;
    };
    await inParallel(rt.staging.groups(), options.concurrency ?? 16, importEach, { keepGoing: true }).catch((e: unknown) => {
      const failed = e instanceof AggregateError ? e.errors : [e];
      throw new AggregateError(failed, `${failed.length} proposal(s) failed to import; they stay staged for the next run`);
    });
  } finally {
    await sweeper.flush();
  }
  return summary;
}

export interface SelectiveImportOptions extends ImportOptions {
  /** Sees the proposal's staged rows first; false leaves everything as it is (nothing written, nothing removed). */
  due?: (group: StagedGroup) => Promise<boolean>;
}

/**
 * Selective import from staging: one proposal, from its own staged rows only (one range query), through
 * the same per-proposal import as the periodic run. The import fast path calls it (functions/importProposal.ts).
 */
export async function importStagedProposal(
  rt: Runtime,
  legalEntity: string,
  proposalId: string,
  log: Logger,
  options: SelectiveImportOptions = {},
): Promise<ProposalOutcome | 'NothingStaged' | 'NotDue'> {
  const group = await rt.staging.group(proposalPartition(legalEntity, proposalId));
  if (!group.rows.length) return 'NothingStaged';
  if (options.due && !(await options.due(group))) return 'NotDue';
  const sweeper = new StagedRowSweeper(rt.staging);
  try {
    return (await importProposal(rt, group, options, log, sweeper)).outcome;
  } finally {
    await sweeper.flush();
  }
}
