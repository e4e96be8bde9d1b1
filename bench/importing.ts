import type { TableClient, TransactionAction } from '@azure/data-tables';
import { numberLines } from '../shared/domain/importPlan';
import { importFromStaging, type ImportSummary } from '../shared/pipeline/importFromStaging';
import { proposalPartition } from '../shared/storage/keys';
import { odata } from '@azure/data-tables';
import type { BilledSalesActual } from '../shared/contracts/actual';
import type { ProposalHeader } from '../shared/domain/proposal';
import { headerEntity, heldEntity, isHeaderRow, linePageEntities, linesOfRow } from '../shared/storage/proposalRows';
import { statePartition, stateRow } from '../shared/storage/proposalStates';
import { SHARD_RANGE } from '../shared/storage/staging';
import { cpuRatio, interleaved, measured, rawTable, round, row, type BenchContext } from './context';
import { countRows, proposals, seedPending, seedProcessed, type Proposal } from './fixtures';
import { assert, benchRuntime, median, pool, silentLog, type BenchRuntime } from './support';
import { target, type BenchRow } from './types';

/** The line rows (pages) a proposal's import writes, as raw entities in its own partition (the physical-limit baseline). */
function lineRows(p: Proposal) {
  const pk = proposalPartition(p.invoice.legalEntity, p.invoice.proposalId);
  return linePageEntities(pk, 'baseline', numberLines(p.actuals));
}

/** Every effect of the import is committed: lines, headers flipped, nothing parked, staging empty. */
async function verifyImported(b: BenchRuntime, proposalCount: number, lines: number, summary: ImportSummary): Promise<void> {
  assert(
    summary.outcomes.LinesCreated === proposalCount,
    `${summary.outcomes.LinesCreated} of ${proposalCount} proposals got lines (${JSON.stringify(summary.outcomes)})`,
  );
  let lineRowCount = 0;
  let actualRowCount = 0;
  let flipped = 0;
  for await (const e of b.rt.tables.proposals.listEntities<{
    partitionKey: string;
    rowKey: string;
    etag: string;
    json?: string;
    status?: string;
  }>({
    queryOptions: { select: ['RowKey', 'json', 'status'] },
  })) {
    if (e.rowKey.startsWith('line|')) lineRowCount += linesOfRow(e).length;
    else if (e.rowKey.startsWith('actual|')) actualRowCount++;
    else if (isHeaderRow(e.rowKey) && e.status === 'LinesCreated') flipped++;
  }
  assert(lineRowCount >= proposalCount * lines, `${lineRowCount} lines, expected ${proposalCount * lines}`);
  // The lines carry the actuals: a proposal imported whole parks none.
  assert(actualRowCount === 0, `${actualRowCount} parked actual rows, expected none`);
  assert(flipped >= proposalCount, `${flipped} headers LinesCreated, expected ${proposalCount}`);
  const staged = await countRows(b.rt.tables.staging);
  assert(staged === 0, `${staged} rows still staged after the import`);
}

/**
 * Row 1f: the import's effects for the seeded proposals, committed with the fewest storage requests and
 * no product code: read staging page by page, one transaction per proposal (held marker, line rows,
 * header merged with the ETag its flag carries), staged rows deleted 100 per transaction.
 * It knows every proposal is new and complete, so it reads nothing else and decides nothing.
 */
export async function commitEffectsRaw(b: BenchRuntime, concurrency: number): Promise<ImportSummary> {
  type Staged = { partitionKey: string; rowKey: string; proposal: string; json?: string; header?: string; headerEtag?: string };
  const { staging, proposals, proposalStates: stateIndex } = b.rt.tables;
  async function* groups(): AsyncGenerator<[string, Staged[]]> {
    let current: [string, Staged[]] | undefined;
    for await (const page of staging
      .listEntities<Staged>({
        queryOptions: { filter: odata`PartitionKey ge ${SHARD_RANGE.first} and PartitionKey le ${SHARD_RANGE.last}` },
      })
      .byPage({ maxPageSize: 1000 })) {
      for (const e of page) {
        if (current && current[0] !== e.proposal) yield current;
        if (!current || current[0] !== e.proposal) current = [e.proposal, []];
        current[1].push(e);
      }
    }
    if (current) yield current;
  }
  const waiting = new Map<string, Staged[]>();
  const deletes: Promise<unknown>[] = [];
  const remove = (rows: Staged[]) =>
    staging.submitTransaction(rows.map((r): TransactionAction => ['delete', { partitionKey: r.partitionKey, rowKey: r.rowKey }]));
  let proposalCount = 0;
  let stagedRows = 0;
  let lines = 0;
  const running = new Set<Promise<void>>();
  for await (const [pk, staged] of groups()) {
    const work = (async () => {
      const actuals = staged.flatMap((e) => (e.json ? [JSON.parse(e.json) as BilledSalesActual] : []));
      const flag = staged.find((e) => e.header)!;
      const header: ProposalHeader = {
        ...(JSON.parse(flag.header!) as ProposalHeader),
        status: 'LinesCreated',
        reason: null,
        activeBuild: 'raw',
        lineCount: actuals.length,
      };
      // The same state-index rows the product writes (docs/storage.md#state-index): LinesCreated entered, AwaitingLines left.
      const awaitingSince = (JSON.parse(flag.header!) as ProposalHeader).stateSince;
      const since = new Date().toISOString();
      await stateIndex.upsertEntity({ partitionKey: statePartition('LinesCreated', since), rowKey: stateRow(pk, since) }, 'Replace');
      await proposals.submitTransaction([
        ['create', heldEntity(pk)],
        ...linePageEntities(pk, 'raw', numberLines(actuals)).map((page): TransactionAction => ['create', page]),
        ['update', headerEntity(pk, { ...header, stateSince: since }), 'Merge', { etag: flag.headerEtag! }],
      ]);
      if (awaitingSince) await stateIndex.deleteEntity(statePartition('AwaitingLines', awaitingSince), stateRow(pk, awaitingSince));
      proposalCount++;
      stagedRows += staged.length;
      lines += actuals.length;
      for (const r of staged) {
        const list = waiting.get(r.partitionKey) ?? [];
        list.push(r);
        waiting.set(r.partitionKey, list);
        if (list.length >= 100) deletes.push(remove(list.splice(0, 100)));
      }
    })().finally(() => running.delete(work));
    running.add(work);
    if (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  for (const list of waiting.values()) if (list.length) deletes.push(remove(list));
  await Promise.all(deletes);
  return {
    proposals: proposalCount,
    stagedRows,
    outcomes: { LinesCreated: proposalCount, AwaitingLines: 0, Error: 0, WaitingForHeader: 0, Unchanged: 0, Posted: 0 },
    linesWritten: lines,
    refused: 0,
  };
}

export interface ImportThroughput {
  rows: BenchRow[];
  /** Storage requests of one product repetition, per actual imported (for measurement 7). */
  requestsPerActual: number[];
  perActual: Record<string, unknown>;
}

/** Measurement 1: importFromStaging over 2,000 ten-line proposals, against raw transactions writing the same lines. */
export async function importThroughput(ctx: BenchContext): Promise<ImportThroughput> {
  const { scale } = ctx;
  const count = scale.m1Proposals;
  const lines = scale.linesPerProposal;
  const actuals = count * lines;
  const figures: number[] = [];
  const baselines: number[] = [];
  const azuriteMsPerProposal = { product: [] as number[], baseline: [] as number[] };
  const benchMsPerProposal = { product: [] as number[], baseline: [] as number[] };
  const requestsPerActual: number[] = [];
  const floors: number[] = [];
  const floorAzuriteMs: number[] = [];
  let breakdown: Record<string, unknown> = {};
  const reps = { baseline: 0, product: 0, floor: 0 };

  const baseline = async () => {
    const table = await rawTable(ctx, 'm1base');
    const batches = [...proposals(`m1b${reps.baseline++}`, count, lines)].map(lineRows);
    const m = await measured(ctx, () =>
      pool(batches, scale.importConcurrency, (rows) => table.submitTransaction(rows.map((e): TransactionAction => ['create', e]))),
    );
    baselines.push(actuals / m.seconds);
    if (m.azuriteCpu !== null) azuriteMsPerProposal.baseline.push((m.azuriteCpu * 1000) / count);
    benchMsPerProposal.baseline.push((m.benchCpu * 1000) / count);
    await table.drop();
  };
  const product = async () => {
    const b = await benchRuntime(ctx.azurite.connectionString, 'm1');
    await seedPending(b.rt, proposals(`m1p${reps.product++}`, count, lines));
    b.counter.reset();
    const m = await measured(ctx, () => importFromStaging(b.rt, silentLog, { concurrency: scale.importConcurrency }));
    figures.push(actuals / m.seconds);
    if (m.azuriteCpu !== null) azuriteMsPerProposal.product.push((m.azuriteCpu * 1000) / count);
    benchMsPerProposal.product.push((m.benchCpu * 1000) / count);
    requestsPerActual.push(b.counter.total / actuals);
    breakdown = {
      requestsPerProposal: Object.fromEntries(Object.entries(b.counter.snapshot(b.prefix)).map(([k, v]) => [k, round(v / count)])),
      operationsInTransactionsPerActual: Object.fromEntries(
        Object.entries(b.counter.batchSnapshot(b.prefix)).map(([k, v]) => [k, round(v / actuals)]),
      ),
      entitiesReadPerActual: Object.fromEntries(Object.entries(b.counter.readSnapshot(b.prefix)).map(([k, v]) => [k, round(v / actuals)])),
      entityOperationsPerActual: round(b.counter.entityOperations / actuals),
    };
    b.counter.enabled = false;
    await verifyImported(b, count, lines, m.value);
    await b.drop();
  };
  const floor = async () => {
    const b = await benchRuntime(ctx.azurite.connectionString, 'm1floor');
    await seedPending(b.rt, proposals(`m1f${reps.floor++}`, count, lines));
    const m = await measured(ctx, () => commitEffectsRaw(b, scale.importConcurrency));
    floors.push(actuals / m.seconds);
    if (m.azuriteCpu !== null) floorAzuriteMs.push((m.azuriteCpu * 1000) / count);
    await verifyImported(b, count, lines, { ...m.value, outcomes: { ...m.value.outcomes, LinesCreated: count } });
    await b.drop();
  };
  await interleaved(scale.repetitions, [baseline, product, floor]);
  ctx.log(
    `  1: import ${figures.map((f) => f.toFixed(0)).join(', ')} actuals/s; raw ${baselines.map((f) => f.toFixed(0)).join(', ')}; raw effects ${floors.map((f) => f.toFixed(0)).join(', ')}`,
  );
  const medianOf = (xs: number[]) => (xs.length ? round(median(xs), 2) : null);
  return {
    rows: [
      row({
        id: '1',
        name: `import throughput: ${actuals.toLocaleString('en')} staged actuals over ${count.toLocaleString('en')} proposals of ${lines} lines, all effects committed`,
        unit: 'actuals/s',
        figures,
        baselines: floors,
        baselineName: 'the same effects committed with raw SDK calls in the same run (row 1f)',
        target: target.ratioAtLeast(0.9),
        details: {
          concurrency: scale.importConcurrency,
          azuriteCpuMsPerProposal: { product: medianOf(azuriteMsPerProposal.product), baseline: medianOf(azuriteMsPerProposal.baseline) },
          azuriteCpuRatio: cpuRatio(medianOf(azuriteMsPerProposal.baseline), medianOf(azuriteMsPerProposal.product)),
          benchCpuMsPerProposal: { product: medianOf(benchMsPerProposal.product), baseline: medianOf(benchMsPerProposal.baseline) },
          ...breakdown,
        },
      }),
      row({
        id: '1m',
        name: 'import throughput (row 1) against the minimal baseline: raw line rows only',
        unit: 'actuals/s',
        figures,
        baselines,
        baselineName: `raw entity group transactions, one per proposal, ${lines} line entities each, ${scale.importConcurrency} at once`,
        target: target.reported('reported: the baseline writes a third of the rows and deletes none'),
      }),
      row({
        id: '1f',
        name: 'the same effects committed with raw SDK calls and no product code (what Azurite must do for them at least)',
        unit: 'actuals/s',
        figures: floors,
        baselines,
        baselineName: 'as row 1',
        target: target.reported('reported: row 1 cannot beat it on this emulator'),
        details: {
          what: 'per proposal the state index entry (LinesCreated), one transaction (held marker, 10 line rows, header merged with the ETag from its flag), the AwaitingLines entry deleted; staged rows deleted 100 per transaction, staging read page by page; no reads of proposals, no planning',
          azuriteCpuMsPerProposal: medianOf(floorAzuriteMs),
          azuriteCpuRatio: cpuRatio(medianOf(azuriteMsPerProposal.baseline), medianOf(floorAzuriteMs)),
        },
      }),
    ],
    requestsPerActual,
    perActual: breakdown,
  };
}

/** Measurement 2: the same 1,000 pending actuals imported with and without 50,000 processed actuals behind them. */
export async function importAgainstHistory(ctx: BenchContext): Promise<BenchRow[]> {
  const { scale } = ctx;
  const lines = scale.linesPerProposal;
  const pending = scale.m2PendingProposals;
  const history = await benchRuntime(ctx.azurite.connectionString, 'm2hist');
  const fresh = await benchRuntime(ctx.azurite.connectionString, 'm2none');
  const historyActuals = await seedProcessed(history.rt, proposals('m2h', scale.m2HistoryProposals, lines));
  const withHistory: number[] = [];
  const without: number[] = [];
  const requests = { withHistory: [] as number[], without: [] as number[] };
  const azuriteMs = { withHistory: [] as number[], without: [] as number[] };
  const reps = { withHistory: 0, without: 0 };
  const run = async (b: BenchRuntime, into: number[], kind: 'withHistory' | 'without') => {
    // The same 1,000 actuals on both sides (same ids, a new set each repetition); each side has its own tables.
    await seedPending(b.rt, proposals(`m2p${reps[kind]++}`, pending, lines));
    b.counter.reset();
    const m = await measured(ctx, () => importFromStaging(b.rt, silentLog, { concurrency: scale.importConcurrency }));
    assert(m.value.outcomes.LinesCreated === pending, `measurement 2: ${JSON.stringify(m.value.outcomes)}`);
    into.push(m.seconds);
    requests[kind].push(b.counter.total);
    if (m.azuriteCpu !== null) azuriteMs[kind].push(m.azuriteCpu * 1000);
  };
  await interleaved(scale.repetitions, [() => run(fresh, without, 'without'), () => run(history, withHistory, 'withHistory')]);
  ctx.log(
    `  2: ${withHistory.map((s) => s.toFixed(3)).join(', ')} s with history; ${without.map((s) => s.toFixed(3)).join(', ')} s without`,
  );

  // Azurite's own sensitivity to table size, for reading the ratio: raw transactions writing the same
  // line rows into the history's table and into an empty one.
  const rawSeconds = { withHistory: [] as number[], without: [] as number[] };
  const empty = await rawTable(ctx, 'm2raw');
  let rawRep = 0;
  const raw = async (table: TableClient, into: number[]) => {
    const batches = [...proposals(`m2raw${rawRep++}`, pending, lines)].map(lineRows);
    const m = await measured(ctx, () =>
      pool(batches, scale.importConcurrency, (rows) => table.submitTransaction(rows.map((e): TransactionAction => ['create', e]))),
    );
    into.push(m.seconds);
  };
  await interleaved(scale.repetitions, [
    () => raw(empty, rawSeconds.without),
    () => raw(history.rt.tables.proposals, rawSeconds.withHistory),
  ]);
  await empty.drop();
  await history.drop();
  await fresh.drop();

  const med = (xs: number[]) => (xs.length ? median(xs) : null);
  const rawRatio =
    med(rawSeconds.withHistory) !== null && med(rawSeconds.without) ? med(rawSeconds.withHistory)! / med(rawSeconds.without)! : null;
  const name = `import against history: ${(pending * lines).toLocaleString('en')} pending actuals with ${historyActuals.toLocaleString('en')} processed behind them`;
  const baselineName = `the same ${(pending * lines).toLocaleString('en')} with no history`;
  return [
    row({
      id: '2',
      name: `${name}: storage requests`,
      unit: 'requests',
      figures: requests.withHistory,
      baselines: requests.without,
      baselineName,
      target: target.ratioExactly(1, '= baseline (exact): the import reads nothing of the history'),
      details: { perRepetition: requests },
    }),
    row({
      id: '2t',
      name: `${name}: time`,
      unit: 's',
      figures: withHistory,
      baselines: without,
      baselineName,
      target: target.reported('reported: Azurite writes slow down as a table grows, Azure Table Storage does not'),
      details: {
        history: `${scale.m2HistoryProposals.toLocaleString('en')} proposals already imported: header LinesCreated, held marker and ${lines} line rows each (${(scale.m2HistoryProposals * (lines + 2)).toLocaleString('en')} rows in the proposals table); their staged rows are gone, as the import leaves them`,
        storageRequests: { withHistory: med(requests.withHistory), without: med(requests.without) },
        azuriteCpuMs: { withHistory: round(med(azuriteMs.withHistory), 1), without: round(med(azuriteMs.without), 1) },
        azuriteCpuRatio: cpuRatio(med(azuriteMs.withHistory), med(azuriteMs.without)),
        azuriteRawWriteRatio: round(rawRatio, 2),
        azuriteRawWriteNote:
          'raw transactions writing the same line rows into the history table vs an empty table: Azurite keeps each table in one LokiJS collection whose indexes cost more per write as the table grows; Azure Table Storage does not',
      },
    }),
  ];
}
