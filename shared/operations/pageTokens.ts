/**
 * Opaque page tokens of the operations lists: where the next page starts, and
 * for which list, so a token is never read against another list. A token the
 * code cannot read, or one that no longer fits (another list, a source that is
 * not configured any more) is a PageTokenError: the HTTP layer answers 400 with
 * field `pageToken`.
 */
export class PageTokenError extends Error {
  override name = 'PageTokenError';
  readonly field = 'pageToken';
  constructor(
    readonly reason: 'malformed' | 'stale',
    detail: string,
  ) {
    super(`pageToken is ${reason}: ${detail}`);
  }
}

const VERSION = 1;

export interface Position {
  /** Which list, with its filter (e.g. "quarantined", "quarantined+retried", "dead-lettered"). */
  list: string;
  /** The segment of the list (for lists drawn from several stores), from 0. */
  segment: number;
  /** The store's own continuation within the segment, or undefined at its start. */
  at: string | undefined;
}

export function encodePageToken(p: Position): string {
  return Buffer.from(JSON.stringify({ v: VERSION, l: p.list, s: p.segment, a: p.at ?? null }), 'utf8').toString('base64url');
}

export function decodePageToken(token: string, list: string, segments: number): Position {
  let raw: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new PageTokenError('malformed', 'pass back the nextPageToken of the previous page as it was');
  }
  const t = raw as { v?: unknown; l?: unknown; s?: unknown; a?: unknown } | null;
  if (!t || typeof t !== 'object' || typeof t.l !== 'string' || !Number.isInteger(t.s) || (t.a !== null && typeof t.a !== 'string'))
    throw new PageTokenError('malformed', 'pass back the nextPageToken of the previous page as it was');
  if (t.v !== VERSION) throw new PageTokenError('stale', 'it was made by another version of the app; start from the first page');
  if (t.l !== list) throw new PageTokenError('stale', `it belongs to the list "${t.l}", not "${list}"; start from the first page`);
  const segment = t.s as number;
  if (segment < 0 || segment >= segments)
    throw new PageTokenError('stale', 'the sources of this list changed since (Service Bus configured or not); start from the first page');
  return { list, segment, at: (t.a as string | null) ?? undefined };
}

/** A single-store list's next page token, or null on the last page. */
export function pageToken(list: string, continuation: string | undefined): string | null {
  return continuation === undefined ? null : encodePageToken({ list, segment: 0, at: continuation });
}

export type PageTokenRead = { ok: true; continuation: string | undefined } | { ok: false; detail: string };

/** Reads a single-store list's page token; a problem detail naming pageToken when it does not fit. */
export function readPageToken(token: string | undefined, list: string): PageTokenRead {
  if (token === undefined) return { ok: true, continuation: undefined };
  try {
    return { ok: true, continuation: decodePageToken(token, list, 1).at };
  } catch (e) {
    if (e instanceof PageTokenError) return { ok: false, detail: `pageToken: ${e.message.replace(/^pageToken /, '')}` };
    throw e;
  }
}
