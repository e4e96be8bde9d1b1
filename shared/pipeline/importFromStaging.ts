import type { TransactionAction } from '@azure/data-tables';
import type { BilledSalesActual } from '../contracts/actual';
import { planImport, type ImportPlan } from '../domain/importPlan';
import { commitToPartition } from '../storage/batches';
import { deleteIfPresent, isPreconditionFailed, withOptimisticRetry } from '../storage/conditions';
import { parseProposalPartition } from '../storage/keys';
import { actualEntity, conditionalWrite, headerEntity, lineEntity, type ProposalPartition } from '../storage/proposals';
import { allShards, type StagedGroup } from '../storage/staging';
import type { Logger, Runtime } from '../runtime';

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

/** Writes the plan: parked actuals and lines first, the header last, with the ETag it was read with. */
async function writePlan(rt: Runtime, part: ProposalPartition, plan: ImportPlan, options: ImportOptions): Promise<void> {
  const pk = part.partitionKey;
  const rows: TransactionAction[] = plan.toPark.map((a) => conditionalWrite(actualEntity(pk, a), part.actuals.get(a.actualId)?.etag));
  const build = plan.header?.activeBuild;
  if (build) for (const line of plan.lines) rows.push(['upsert', lineEntity(pk, build, line), 'Replace']);
  const beforeBatch = options.beforeBatch && ((i: number, n: number) => options.beforeBatch!(pk, i, n));
  if (plan.header && part.header) {
    const header = { ...part.header.value, ...plan.header };
    await commitToPartition(rt.proposals.client, rows, ['update', headerEntity(pk, header), 'Replace', { etag: part.header.etag }], beforeBatch);
  } else if (rows.length) {
    // No header to commit: parked actuals are plain data, each row guarded by its own ETag.
    const [last, ...first] = [rows.at(-1)!, ...rows.slice(0, -1)];
    await commitToPartition(rt.proposals.client, first, last, beforeBatch);
  }
}

/** Line rows of builds that are no longer the proposal's lines. Deleted with their ETags, so a rebuild in flight keeps its rows. */
async function collectGarbage(rt: Runtime, part: ProposalPartition, activeBuild: string | null): Promise<void> {
  for (const [build, lines] of part.builds) {
    if (build === activeBuild) continue;
    for (const l of lines) {
      try {
        await deleteIfPresent(() => rt.proposals.client.deleteEntity(part.partitionKey, l.rowKey, { etag: l.etag }));
      } catch (e) {
        if (!isPreconditionFailed(e)) throw e;
      }
    }
  }
}

async function importProposal(rt: Runtime, group: StagedGroup, options: ImportOptions, log: Logger) {
  const staged = group.rows.flatMap((r) => (r.actual ? [r.actual] : []));
  const { legalEntity, proposalId } = parseProposalPartition(group.proposal);
  const name = `proposal ${legalEntity}/${proposalId}`;

  const { part, plan } = await withOptimisticRetry(`import of ${name}`, async () => {
    const part = await rt.proposals.read(group.proposal);
    const known: BilledSalesActual[] = [...part.actuals.values()].map((s) => s.value);
    const plan = planImport({ header: part.header?.value, known, staged });
    await writePlan(rt, part, plan, options);
    return { part, plan };
  });

  for (const { actual, reason } of plan.refused) {
    await rt.quarantine.keep({ source: 'import-from-staging', messageId: `${actual.actualId}@${actual.version}`, reason, raw: JSON.stringify(actual), now: rt.now() });
    log.warn(`${name}: ${reason}`);
  }
  await rt.staging.remove(group.rows);
  const activeBuild = plan.header ? plan.header.activeBuild : (part.header?.value.activeBuild ?? null);
  if (part.builds.size > (activeBuild && part.builds.has(activeBuild) ? 1 : 0)) await collectGarbage(rt, part, activeBuild);

  const outcome = outcomeOf(part, plan);
  if (plan.header) log.info(`${name}: ${plan.header.status}${plan.header.reason ? ` (${plan.header.reason})` : ''}`);
  return { outcome, lines: plan.lines.length, refused: plan.refused.length };
}

/** Runs `work` over `items` with at most `limit` at once, pulling items lazily. */
async function pool<T>(items: AsyncIterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  const failures: unknown[] = [];
  for await (const item of items) {
    const p = work(item).catch((e) => void failures.push(e)).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failures.length) throw new AggregateError(failures, `${failures.length} proposal(s) failed to import; they stay staged for the next run`);
}

async function* everyGroup(rt: Runtime): AsyncGenerator<StagedGroup> {
  for (const shard of allShards()) yield* rt.staging.groups(shard);
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
  await pool(everyGroup(rt), options.concurrency ?? 16, async (group) => {
    const result = await importProposal(rt, group, options, log);
    summary.proposals++;
    summary.stagedRows += group.rows.length;
    summary.outcomes[result.outcome]++;
    summary.linesWritten += result.lines;
    summary.refused += result.refused;
  });
  return summary;
}
