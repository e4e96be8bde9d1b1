import { describe, expect, it } from 'vitest';
import { markdownTable } from '../bench/report';
import { runBench } from '../bench/suite';

/**
 * `npm run bench` at a tiny scale, so the benchmark cannot rot: every
 * measurement runs end to end (its own Azurite, the import child process, the
 * local host under autocannon) and reports a row. Figures at this scale mean
 * nothing, so no timing target is asserted here; `npm run bench` judges them.
 */
describe('npm run bench (tiny scale)', () => {
  it('runs every measurement of issue 7 and reports each with figure, baseline and target', async () => {
    const results = await runBench({ scale: 'tiny' });

    const ids = results.rows.map((r) => r.id);
    for (const id of ['1', '2', '3', '4', '5', '6', '6b', '7a', '7b', '7c', '8a', '8b']) expect(ids, `row ${id}`).toContain(id);
    for (const r of results.rows) {
      expect(r, r.id).toHaveProperty('figure');
      expect(r, r.id).toHaveProperty('baseline');
      expect(r, r.id).toHaveProperty('target');
      expect(typeof r.figure, `${r.id} was measured`).toBe('number');
      expect(r.samples.figure.length, `${r.id} samples`).toBeGreaterThan(0);
      expect(r.target.text, `${r.id} target`).not.toBe('');
      if (r.target.on === 'ratio') {
        expect(typeof r.baseline, `${r.id} baseline`).toBe('number');
        expect(typeof r.ratio, `${r.id} ratio`).toBe('number');
        expect(r.samples.baseline.length, `${r.id} baseline samples`).toBeGreaterThanOrEqual(3);
        expect(r.samples.figure.length, `${r.id} repetitions`).toBeGreaterThanOrEqual(3);
      }
      if (r.target.op) expect(typeof r.met, `${r.id} judged`).toBe('boolean');
    }

    // Storage requests are exact, whatever the scale: two per first delivery of a header or an actual.
    expect(results.rows.find((r) => r.id === '7a')!.figure).toBe(2);
    expect(results.rows.find((r) => r.id === '7b')!.figure).toBe(2);

    expect(JSON.parse(JSON.stringify(results))).toEqual(results); // what bench/results.json holds
    const table = markdownTable(results);
    for (const id of ids) expect(table).toContain(`| ${id} |`);
  }, 120_000);
});
