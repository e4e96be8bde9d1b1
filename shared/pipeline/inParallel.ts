/**
 * The one concurrency pool: runs `work` over `items` (an array, any iterable,
 * or an async iterable pulled lazily, so a paged query is never read ahead)
 * with at most `limit` at once, and returns the results in input order.
 *
 * On a failure it stops taking new items by default and throws once the
 * running ones are done; with `keepGoing` every item is tried, and all
 * failures are thrown together as one AggregateError.
 */
export async function inParallel<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  work: (item: T, index: number) => Promise<R>,
  options: { keepGoing?: boolean } = {},
): Promise<R[]> {
  const source = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : toAsync(items[Symbol.iterator]());
  const results: R[] = [];
  const failures: unknown[] = [];
  let taken = 0;
  let pulling: Promise<unknown> = Promise.resolve();
  /** The next item, one pull at a time: an async iterator must not be asked twice at once. */
  const next = (): Promise<IteratorResult<T>> => {
    const pulled = pulling.then(() => source.next());
    pulling = pulled.catch(() => undefined);
    return pulled;
  };
  const worker = async () => {
    while (options.keepGoing || !failures.length) {
      const item = await next();
      if (item.done) return;
      const index = taken++;
      try {
        results[index] = await work(item.value, index);
      } catch (e) {
        failures.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failures.length === 1 && !options.keepGoing) throw failures[0];
  if (failures.length) throw new AggregateError(failures, `${failures.length} of ${taken} failed`);
  return results;
}

async function* toAsync<T>(it: Iterator<T>): AsyncGenerator<T> {
  for (let n = it.next(); !n.done; n = it.next()) yield n.value;
}
