/**
 * Page tokens of the operations lists: the store's continuation token wrapped
 * with the list it belongs to, so a token from one list (or a mangled one) is
 * refused with a clear problem instead of showing a wrong page.
 */
export type PageTokenRead = { ok: true; continuation: string | undefined } | { ok: false; detail: string };

export function pageToken(list: string, continuation: string | undefined): string | null {
  return continuation === undefined ? null : Buffer.from(JSON.stringify({ l: list, c: continuation })).toString('base64url');
}

export function readPageToken(token: string | undefined, list: string): PageTokenRead {
  if (token === undefined) return { ok: true, continuation: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, detail: 'pageToken: is not a page token this API gave out' };
  }
  const p = parsed as { l?: unknown; c?: unknown } | null;
  if (!p || typeof p.l !== 'string' || typeof p.c !== 'string')
    return { ok: false, detail: 'pageToken: is not a page token this API gave out' };
  if (p.l !== list) return { ok: false, detail: `pageToken: belongs to another list (${p.l}), not ${list}; start again without it` };
  return { ok: true, continuation: p.c };
}
