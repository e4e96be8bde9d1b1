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
    for (const id of [
      '1',
      '1f',
      '1m',
      '2',
      '2t',
      '3',
      '3f',
      '3m',
      '4',
      '4f',
      '4m',
      '5',
      '6',
      '6b',
      '6c',
      '7a',
      '7b',
      '7c',
      '7f',
      '7g',
      '7h',
      '7i',
      '8a',
      '8b',
      '8c',
      '9a',
      '9b',
    ])
      expect(ids, `row ${id}`).toContain(id);
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

    // Storage requests are exact, whatever the scale: three for a header's first delivery (the state index's entry,
    // the header, the staging flag), two for an actual's.
    expect(results.rows.find((r) => r.id === '7a')!.figure).toBe(3);
    expect(results.rows.find((r) => r.id === '7b')!.figure).toBe(2);
    // The import's effects for whole 10-line proposals: 11 staged rows read, 3 written in one transaction (held marker,
    // one page of 10 lines, header), 11 deleted, and the state index's two entries (LinesCreated entered, AwaitingLines left).
    expect(results.rows.find((r) => r.id === '7f')!.figure).toBeCloseTo(2.7, 10);
    // The same when each invoice's actuals arrived together (one syncActuals invocation): one bundle row read and
    // deleted instead of ten, so 2 + 3 + 2 + the index's 2, for 10 actuals.
    expect(results.rows.find((r) => r.id === '7i')!.figure).toBeCloseTo(0.9, 10);
    // The import reads nothing of the history: exactly as many storage requests with it as without.
    expect(results.rows.find((r) => r.id === '2')!.met).toBe(true);
    // The very large invoice went through whole (bench/large.ts checks every line and update) and was measured.
    expect(results.rows.find((r) => r.id === '8c')!.details).toMatchObject({ sendWithAnswerMaxLines: 1_000 });

    expect(JSON.parse(JSON.stringify(results))).toEqual(results); // what bench/results.json holds
    const table = markdownTable(results);
    for (const id of ids) expect(table).toContain(`| ${id} |`);
  }, 120_000);
});
