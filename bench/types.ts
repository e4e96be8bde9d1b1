/** One row of the results table (and of bench/results.json). */
export interface BenchRow {
  /** Measurement number from issue 7, with a letter for its parts ("1", "6b", "7c"). */
  id: string;
  name: string;
  unit: string;
  /** The product's figure: median of the repetitions (null when it could not be measured). */
  figure: number | null;
  /** The baseline measured in the same run on the same Azurite (null when the row has none). */
  baseline: number | null;
  baselineName: string | null;
  /** figure / baseline, when there is a baseline. */
  ratio: number | null;
  target: Target;
  /** Whether the target is met (null when there is nothing to compare, e.g. "reported"). */
  met: boolean | null;
  samples: { figure: number[]; baseline: number[] };
  /** Request counts, Azurite CPU, notes: whatever explains the figure. */
  details: Record<string, unknown>;
}

export interface Target {
  text: string;
  /** What the target compares: the ratio to the baseline, or the figure itself. */
  on: 'ratio' | 'figure' | 'none';
  op: '>=' | '<=' | '=' | null;
  value: number | null;
}

export interface BenchResults {
  scale: string;
  startedAt: string;
  wallSeconds: number;
  environment: Record<string, unknown>;
  rows: BenchRow[];
}

export const target = {
  ratioAtLeast: (value: number, text = `≥ ${value} of baseline`): Target => ({ text, on: 'ratio', op: '>=', value }),
  ratioAtMost: (value: number, text = `≤ ${value}× baseline`): Target => ({ text, on: 'ratio', op: '<=', value }),
  /** Exactly the baseline (counts, not timings). */
  ratioExactly: (value: number, text: string): Target => ({ text, on: 'ratio', op: '=', value }),
  figureAtMost: (value: number, text: string): Target => ({ text, on: 'figure', op: '<=', value }),
  reported: (text = 'reported'): Target => ({ text, on: 'none', op: null, value: null }),
};

export function judge(t: Target, figure: number | null, ratio: number | null): boolean | null {
  if (t.on === 'none' || t.op === null || t.value === null) return null;
  const v = t.on === 'ratio' ? ratio : figure;
  if (v === null || !Number.isFinite(v)) return null;
  return t.op === '=' ? v === t.value : t.op === '>=' ? v >= t.value : v <= t.value;
}
