import type { BenchResults, BenchRow } from './types';

function num(n: number | null, unit = ''): string {
  if (n === null) return '—';
  const abs = Math.abs(n);
  const text = abs >= 100 ? n.toFixed(0) : abs >= 10 ? n.toFixed(1) : abs >= 1 ? n.toFixed(2) : n.toFixed(3);
  return `${Number(text).toLocaleString('en', { maximumFractionDigits: 3 })}${unit}`;
}

function verdict(r: BenchRow): string {
  if (r.met === null) return r.figure === null ? 'not measured' : 'reported';
  return r.met ? 'met' : 'MISSED';
}

function ratioText(r: BenchRow): string {
  if (r.ratio === null) return '—';
  return r.target.on === 'ratio' && r.target.op === '<=' ? `${r.ratio.toFixed(2)}×` : r.ratio.toFixed(2);
}

/** The results as a Markdown table (what `npm run bench` prints and the README shows). */
export function markdownTable(results: BenchResults): string {
  const lines = ['| # | measurement | figure (median) | baseline (median) | ratio | target | result |', '|---|---|---|---|---|---|---|'];
  for (const r of results.rows) {
    const baseline = r.baseline === null ? '—' : `${num(r.baseline)} ${r.unit}`;
    lines.push(`| ${r.id} | ${r.name} | ${num(r.figure)} ${r.unit} | ${baseline} | ${ratioText(r)} | ${r.target.text} | ${verdict(r)} |`);
  }
  return lines.join('\n');
}

export function summaryLine(results: BenchResults): string {
  const judged = results.rows.filter((r) => r.met !== null);
  const met = judged.filter((r) => r.met).length;
  return `${met} of ${judged.length} targets met; ${results.rows.length} rows; wall time ${results.wallSeconds} s (scale ${results.scale}, ${results.environment.cpus} CPUs, load ${String(results.environment.loadAverageAtStart)} → ${String(results.environment.loadAverageAtEnd)})`;
}
