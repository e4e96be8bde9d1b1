import { TableClient } from '@azure/data-tables';
import type { BenchAzurite } from './azurite';
import type { Scale } from './scale';
import { freshPrefix, median, timed } from './support';
import { judge, type BenchRow, type Target } from './types';

export interface BenchContext {
  scale: Scale;
  azurite: BenchAzurite;
  log: (line: string) => void;
}

/** A bare table of its own (for raw baselines), deleted by `drop`. */
export async function rawTable(ctx: BenchContext, tag: string): Promise<TableClient & { drop(): Promise<void> }> {
  const table = TableClient.fromConnectionString(ctx.azurite.connectionString, `${freshPrefix(tag)}raw`, { allowInsecureConnection: true });
  await table.createTable();
  return Object.assign(table, { drop: () => table.deleteTable().catch(() => undefined) });
}

/** Wall seconds of `work`, with the CPU seconds Azurite and this process spent on it. */
export async function measured<T>(
  ctx: BenchContext,
  work: () => Promise<T>,
): Promise<{ seconds: number; azuriteCpu: number | null; benchCpu: number; value: T }> {
  const azurite0 = ctx.azurite.cpuSeconds();
  const bench0 = process.cpuUsage();
  const { seconds, value } = await timed(work);
  const azurite1 = ctx.azurite.cpuSeconds();
  const bench = process.cpuUsage(bench0);
  return {
    seconds,
    value,
    azuriteCpu: azurite0 === null || azurite1 === null ? null : azurite1 - azurite0,
    benchCpu: (bench.user + bench.system) / 1e6,
  };
}

/** Builds a row from the repetitions' samples: medians, ratio, and whether the target is met. */
export function row(init: {
  id: string;
  name: string;
  unit: string;
  figures: number[];
  baselines?: number[];
  baselineName?: string;
  target: Target;
  details?: Record<string, unknown>;
  /** For costs (seconds), the ratio is figure / baseline as well; set false to skip the ratio. */
  ratio?: boolean;
}): BenchRow {
  const figure = init.figures.length ? median(init.figures) : null;
  const baseline = init.baselines?.length ? median(init.baselines) : null;
  const ratio = init.ratio !== false && figure !== null && baseline !== null && baseline !== 0 ? figure / baseline : null;
  return {
    id: init.id,
    name: init.name,
    unit: init.unit,
    figure,
    baseline,
    baselineName: init.baselineName ?? null,
    ratio,
    target: init.target,
    met: judge(init.target, figure, ratio),
    samples: { figure: init.figures, baseline: init.baselines ?? [] },
    details: init.details ?? {},
  };
}

/** Alternates which side goes first, so drift (other load on the machine) hits both sides alike. */
export async function interleaved(repetitions: number, sides: readonly (() => Promise<void>)[]): Promise<void> {
  for (let rep = 0; rep < repetitions; rep++) {
    const order = rep % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) await side();
  }
}

/**
 * How much of Azurite's CPU one unit of the baseline takes compared with one unit of the product
 * (baseline / product). When Azurite is the bottleneck this is what the throughput ratio tends to; it
 * is steadier than wall-clock throughput on a machine shared with other work.
 */
export function cpuRatio(baseline: number | null | undefined, product: number | null | undefined): number | null {
  return baseline && product ? round(baseline / product, 2) : null;
}

export const round = (n: number | null | undefined, digits = 3): number | null =>
  n === null || n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(digits));
