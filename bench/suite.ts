import { cpus, loadavg, totalmem } from 'node:os';
import { startBenchAzurite, type BenchAzurite } from './azurite';
import type { BenchContext } from './context';
import { syncThroughput } from './delivering';
import { postingCallbacks } from './http';
import { importAgainstHistory, importThroughput } from './importing';
import { largeInvoices } from './large';
import { lastMessageLatency } from './latency';
import { importMemory } from './memory';
import { operationCounts } from './operations';
import { scaleFrom, type Scale } from './scale';
import { timed } from './support';
import type { BenchResults, BenchRow } from './types';

export interface RunOptions {
  scale?: Scale | string;
  log?: (line: string) => void;
  /** An Azurite to use instead of starting one (it is then not stopped). */
  azurite?: BenchAzurite;
  /** Only these measurements ("1", "2", "3", "5", "6", "7", "8"; 3 includes 4), for working on one of them. */
  only?: readonly string[];
}

/**
 * Every measurement of issue 7 in one run, on one Azurite, so that each ratio
 * compares like with like. Measurements run one after another (never two at
 * once), each baseline interleaved with its product side.
 */
export async function runBench(options: RunOptions = {}): Promise<BenchResults> {
  const scale = typeof options.scale === 'object' ? options.scale : scaleFrom(options.scale);
  const log = options.log ?? (() => {});
  const startedAt = new Date();
  const load0 = loadavg();
  const azurite = options.azurite ?? (await startBenchAzurite());
  const ctx: BenchContext = { scale, azurite, log };
  const rows: BenchRow[] = [];
  const wanted = (id: string) => !options.only?.length || options.only.includes(id);
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    log(`${name} …`);
    const { seconds, value } = await timed(work);
    log(`${name}: ${seconds.toFixed(1)} s`);
    return value;
  };
  const { seconds } = await timed(async () => {
    try {
      const m1 = wanted('1') || wanted('7') ? await step('1 import throughput', () => importThroughput(ctx)) : undefined;
      if (m1 && wanted('1')) rows.push(...m1.rows);
      if (wanted('2')) rows.push(...(await step('2 import against history', () => importAgainstHistory(ctx))));
      if (wanted('3') || wanted('4')) rows.push(...(await step('3+4 sync throughput', () => syncThroughput(ctx))));
      if (wanted('5')) rows.push(await step('5 import memory', () => importMemory(ctx)));
      if (wanted('6')) rows.push(...(await step('6 posting callbacks over HTTP', () => postingCallbacks(ctx))));
      if (wanted('7'))
        rows.push(...(await step('7 storage requests per unit', () => operationCounts(ctx, m1!.requestsPerActual, m1!.perActual))));
      if (wanted('8')) rows.push(...(await step('8 very large invoices', () => largeInvoices(ctx))));
      if (wanted('9')) rows.push(...(await step('9 last message to lines', () => lastMessageLatency(ctx))));
    } finally {
      if (!options.azurite) await azurite.stop();
    }
  });
  const order = (id: string) => [parseInt(id, 10), id] as const;
  rows.sort((a, b) => order(a.id)[0] - order(b.id)[0] || order(a.id)[1].localeCompare(order(b.id)[1]));
  return {
    scale: scale.name,
    startedAt: startedAt.toISOString(),
    wallSeconds: Number(seconds.toFixed(1)),
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGB: Number((totalmem() / 1024 ** 3).toFixed(1)),
      azurite: 'in-memory Table service in its own process (host/azurite.ts startAzurite)',
      loadAverageAtStart: load0.map((x) => Number(x.toFixed(2))),
      loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
    },
    rows,
  };
}
