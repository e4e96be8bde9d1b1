import { round, row, type BenchContext } from './context';
import { countRows, proposals, seedPending } from './fixtures';
import { startChild } from './processes';
import { assert, benchRuntime } from './support';
import { target, type BenchRow } from './types';

const MB = 1024 * 1024;

/**
 * Measurement 5: Import from staging over 100,000 pending actuals, in a process
 * of its own that does nothing else, so its RSS is the import's. The parent
 * seeds; the child imports and samples its RSS every 5 ms.
 */
export async function importMemory(ctx: BenchContext): Promise<BenchRow> {
  const { scale } = ctx;
  const lines = scale.linesPerProposal;
  const actuals = scale.m5Proposals * lines;
  const growth: number[] = [];
  const details: Record<string, unknown>[] = [];
  for (let rep = 0; rep < scale.m5Repetitions; rep++) {
    const b = await benchRuntime(ctx.azurite.connectionString, 'm5');
    await seedPending(b.rt, proposals(`m5r${rep}`, scale.m5Proposals, lines));
    const child = startChild('memory', {
      BENCH_CONNECTION: ctx.azurite.connectionString,
      BENCH_PREFIX: b.prefix,
      BENCH_CONCURRENCY: String(scale.importConcurrency),
    });
    const m = await child.first;
    await child.stop();
    assert(m.kind === 'memory', 'measurement 5: the child did not report');
    const summary = m.summary as { outcomes: { LinesCreated: number }; stagedRows: number };
    assert(summary.outcomes.LinesCreated === scale.m5Proposals, `measurement 5: ${JSON.stringify(summary)}`);
    const left = await countRows(b.rt.tables.staging);
    assert(left === 0, `measurement 5: ${left} rows still staged`);
    const stagingPages = Object.entries(m.requests).find(([k]) => k === 'query staging')?.[1] ?? 0;
    const stagedRead = m.entitiesRead['staging'] ?? 0;
    assert(stagingPages >= Math.ceil(stagedRead / 1000), 'measurement 5: staging was not read in pages of at most 1,000');
    growth.push((m.peakRss - m.rssBefore) / MB);
    details.push({
      seconds: round(m.seconds, 1),
      rssBeforeMB: round(m.rssBefore / MB, 1),
      peakRssMB: round(m.peakRss / MB, 1),
      peakRssGrowthMB: round((m.peakRss - m.rssBefore) / MB, 1),
      maxRssGrowthMB: round((m.maxRss - m.rssBefore) / MB, 1),
      peakHeapGrowthMB: round((m.peakHeap - m.heapBefore) / MB, 1),
      stagedRowsRead: stagedRead,
      stagingPages,
      meanRowsPerPage: stagingPages ? round(stagedRead / stagingPages, 0) : null,
    });
    ctx.log(`  5: ${actuals} actuals imported in ${m.seconds.toFixed(1)} s, RSS +${((m.peakRss - m.rssBefore) / MB).toFixed(1)} MB`);
    await b.drop();
  }
  return row({
    id: '5',
    name: `import of ${actuals.toLocaleString('en')} pending actuals: peak RSS growth of the importing process`,
    unit: 'MB',
    figures: growth,
    target: target.figureAtMost(256, '≤ 256 MB; pages streamed'),
    details: {
      ...(scale.m5Repetitions < 3
        ? {
            repetitionNote: `${scale.m5Repetitions} repetition: on Azurite each delete costs time in proportion to the whole table, so draining ${actuals.toLocaleString('en')} staged rows takes minutes; more would break the 10-minute budget (bench/scale.ts)`,
          }
        : {}),
      repetitions: details,
      streaming:
        'StagingStore.groups reads each shard page by page (≤ 1,000 rows) and the import pulls proposals lazily, at most `concurrency` at once; peakRssGrowthMB samples every 5 ms, maxRssGrowthMB is getrusage peak (includes start-up)',
    },
  });
}
