/** Status codes of storage failures that are part of normal optimistic concurrency. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export const isNotFound = (e: unknown) => statusOf(e) === 404;
export const isConflict = (e: unknown) => statusOf(e) === 409;
export const isPreconditionFailed = (e: unknown) => statusOf(e) === 412;

export class ConcurrencyExhaustedError extends Error {
  override name = 'ConcurrencyExhaustedError';
}

/**
 * Read-decide-write with ETags: on 412 (someone changed the row) or 409 (someone
 * created it first) the whole attempt runs again from a fresh read. Past the
 * limit it throws, so the message goes back to Service Bus for redelivery.
 * `attempt` gets its number (1, 2, …): a first attempt may skip the read for the
 * common case (nothing there yet) and let a conflict send it to the read path.
 */
export async function withOptimisticRetry<T>(what: string, attempt: (n: number) => Promise<T>, tries = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt(i);
    } catch (e) {
      if (!(isPreconditionFailed(e) || isConflict(e))) throw e;
      if (i >= tries) throw new ConcurrencyExhaustedError(`${what}: still conflicting after ${tries} attempts`, { cause: e });
      await new Promise((r) => setTimeout(r, Math.random() * 20 * i));
    }
  }
}

/**
 * Runs a conditional write; a row it names with an ETag that is gone since it
 * was read (404) counts as changed (412), so the attempt runs again from fresh
 * reads instead of failing.
 */
export async function goneIsChanged<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (!isNotFound(e)) throw e;
    throw Object.assign(new Error('a row read with its ETag is gone: read again', { cause: e }), { statusCode: 412 });
  }
}

/** Runs `create`; a 409 (already there) is not an error. Returns whether this call created it. */
export async function createIfAbsent(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (e) {
    if (isConflict(e)) return false;
    throw e;
  }
}

/** Runs `remove`; a 404 (already gone) is not an error. */
export async function deleteIfPresent(remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
