import { describe, expect, it } from 'vitest';
import { inParallel } from '../../../shared/pipeline/inParallel';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('inParallel: the one concurrency pool', () => {
  it('returns results in input order, whatever order the work finishes in', async () => {
    const out = await inParallel([30, 10, 20, 0], 4, async (ms, i) => {
      await new Promise((r) => setTimeout(r, ms));
      return `${i}:${ms}`;
    });
    expect(out).toEqual(['0:30', '1:10', '2:20', '3:0']);
  });

  it('never runs more than `limit` at once', async () => {
    let running = 0;
    let most = 0;
    await inParallel(
      Array.from({ length: 40 }, (_, i) => i),
      3,
      async () => {
        most = Math.max(most, ++running);
        await tick();
        running--;
      },
    );
    expect(most).toBe(3);
  });

  it('pulls an async source lazily: a paged query is never read ahead of the work', async () => {
    let pulled = 0;
    let done = 0;
    let furthestAhead = 0;
    async function* pages() {
      for (let i = 0; i < 20; i++) {
        pulled++;
        furthestAhead = Math.max(furthestAhead, pulled - done);
        yield i;
      }
    }
    await inParallel(pages(), 2, async () => {
      await tick();
      done++;
    });
    expect(pulled).toBe(20);
    expect(furthestAhead).toBeLessThanOrEqual(2);
  });

  it('stops taking items after a failure and throws it once the running ones are done', async () => {
    const started: number[] = [];
    const failure = new Error('item 2 failed');
    await expect(
      inParallel([0, 1, 2, 3, 4, 5, 6, 7], 2, async (i) => {
        started.push(i);
        await tick();
        if (i === 2) throw failure;
      }),
    ).rejects.toBe(failure);
    expect(started.length).toBeLessThan(8);
  });

  it('with keepGoing tries every item and throws all failures together', async () => {
    const tried: number[] = [];
    const err = await inParallel(
      [1, 2, 3, 4],
      2,
      async (i) => {
        tried.push(i);
        if (i % 2 === 0) throw new Error(`item ${i}`);
      },
      { keepGoing: true },
    ).catch((e: unknown) => e);
    expect(tried.sort()).toEqual([1, 2, 3, 4]);
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).errors.map((e: Error) => e.message).sort()).toEqual(['item 2', 'item 4']);
  });
});
