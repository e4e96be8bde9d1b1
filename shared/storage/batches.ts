import type { TableClient, TransactionAction } from '@azure/data-tables';
import { deleteIfPresent, isNotFound } from './conditions';

/** Azure Table Storage's limit for one entity group transaction. */
export const MAX_BATCH = 100;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Transactions of one commit in flight at once (the rows between the first batch and the commit). */
export const COMMIT_CONCURRENCY = 4;

/**
 * Writes `rows` and then `commit` into one partition. Up to 100 operations go
 * in a single atomic transaction. Beyond that the rows go first, in batches,
 * and `commit` (the header, written with its ETag) goes in the last batch: the
 * rows must be invisible until the header names them and idempotent to write
 * again, so a crash between batches leaves nothing half-visible and a re-run
 * simply finishes the job. See docs/storage.md. Without a `commit`, the rows
 * are written in batches and each must guard itself (create, or its ETag).
 *
 * The first batch goes alone (it carries the import's guard, the held marker
 * created, so a wrong assumption fails before anything else is written), the
 * batches between it and the commit go `COMMIT_CONCURRENCY` at once (none is
 * visible before the commit, so their order does not matter), and the commit
 * goes last, only once every other batch is written.
 */
export async function commitToPartition(
  table: TableClient,
  rows: readonly TransactionAction[],
  commit: TransactionAction | undefined,
  onBatch?: (index: number, total: number) => Promise<void> | void,
): Promise<void> {
  const batches = chunk(rows, MAX_BATCH);
  const last = batches.at(-1);
  if (commit && last && last.length < MAX_BATCH) last.push(commit);
  else if (commit) batches.push([commit]);
  const submit = async (i: number) => {
    await onBatch?.(i, batches.length);
    await table.submitTransaction(batches[i]!);
  };
  if (batches.length === 0) return;
  await submit(0);
  const middle = Array.from({ length: Math.max(0, batches.length - 2) }, (_, i) => i + 1);
  let failed: unknown;
  const lane = async () => {
    for (let i = middle.shift(); i !== undefined && failed === undefined; i = middle.shift()) {
      try {
        await submit(i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: COMMIT_CONCURRENCY }, lane));
  if (failed !== undefined) throw failed;
  if (batches.length > 1) await submit(batches.length - 1);
}

/**
 * Deletes immutable rows of one partition in batches. Only for rows whose
 * content never changes under the same key, so an unconditional delete cannot
 * lose a newer write. A row already gone (another instance deleted it) fails
 * its batch with 404; that batch is then deleted row by row.
 */
export async function deleteImmutableRows(table: TableClient, rows: readonly { partitionKey: string; rowKey: string }[]): Promise<void> {
  for (const batch of chunk(rows, MAX_BATCH)) {
    try {
      await table.submitTransaction(batch.map((r) => ['delete', { partitionKey: r.partitionKey, rowKey: r.rowKey }] as TransactionAction));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      for (const r of batch) await deleteIfPresent(() => table.deleteEntity(r.partitionKey, r.rowKey));
    }
  }
}
