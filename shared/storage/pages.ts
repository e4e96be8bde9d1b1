import { odata, type TableClient } from '@azure/data-tables';
import { encodeKeyPart, prefixEnd } from './keys';

// Records kept one per actual (a build's lines, a posting's accounting amounts), stored several to a row:
// docs/storage.md, "Pages of lines".

/** A row that holds a page of records (or, written before pages, one record). */
export type PagedRow = { partitionKey: string; rowKey: string; etag: string; json?: string };

/** The key an actual's record would have alone: the row written before pages, and what its page is found from. */
export const recordKey = (prefix: string, actualId: string) => `${prefix}${encodeKeyPart(actualId)}`;

/**
 * A page holds at most this many characters of JSON (about 24 lines, or 50 posted rows): a transaction of
 * 100 pages then stays under its 4 MiB even if every character took 3 bytes. Part of the layout: the pages
 * of a build (or a posting) are a function of its records and this number, so writing it again writes the
 * same rows. Never change it in place; a new layout needs a new row-key prefix (docs/storage.md).
 */
export const PAGE_CHARS = 10_000;

/**
 * Records of one build or one posting, one per actual, several to a row: in the order of the key each
 * would have alone (`{prefix}{actualId}`), cut into pages of up to `pageChars`, each page keyed by the last
 * actual on it. The page holding an actual is then the first row of the prefix at or after the key the
 * actual's own row would have, so finding one record is still one read (readRecordOf). Rows
 * of one record each (written before pages) are keyed by their actual too, and read the same way.
 */
export function pageEntities<T>(pk: string, prefix: string, records: readonly T[], idOf: (r: T) => string, pageChars: number) {
  const keyed = records.map((r) => ({ key: recordKey(prefix, idOf(r)), text: JSON.stringify(r) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const pages: { partitionKey: string; rowKey: string; json: string }[] = [];
  let texts: string[] = [];
  let size = 2;
  keyed.forEach(({ key, text }, i) => {
    texts.push(text);
    size += text.length + 1;
    const next = keyed[i + 1];
    if (next && size + next.text.length + 1 <= pageChars) return;
    pages.push({ partitionKey: pk, rowKey: key, json: `[${texts.join(',')}]` });
    texts = [];
    size = 2;
  });
  return pages;
}

/** The records a paged row holds: a page's, or the one record of a row written before pages. */
export function recordsOfRow<T>(row: PagedRow): T[] {
  const value = JSON.parse(row.json ?? 'null') as T | T[];
  return Array.isArray(value) ? value : [value];
}

/**
 * The records under one prefix, each actual's once; the first `limit` only, if given. An actual on two rows
 * of one prefix (pages cut by another layout) is the same record on both: a build's lines follow from its
 * actuals alone, a posting's rows from its callback.
 */
export async function readRecords<T>(
  table: TableClient,
  pk: string,
  prefix: string,
  idOf: (r: T) => string,
  limit = Infinity,
): Promise<T[]> {
  const filter = odata`PartitionKey eq ${pk} and RowKey ge ${prefix} and RowKey lt ${prefixEnd(prefix)}`;
  const byActual = new Map<string, T>();
  // A limit reads no more rows than it could need: each row holds at least one record.
  const pages = table
    .listEntities<PagedRow>({ queryOptions: { filter, select: ['RowKey', 'json'] } })
    .byPage({ maxPageSize: Number.isFinite(limit) ? Math.min(limit, 1000) : undefined });
  for await (const page of pages) {
    for (const row of page) for (const r of recordsOfRow<T>(row)) if (byActual.size < limit) byActual.set(idOf(r), r);
    if (byActual.size >= limit) break;
  }
  return [...byActual.values()];
}

/** One actual's record under a prefix, or undefined: the first row of the prefix at or after the actual's own key, one request. */
export async function readRecordOf<T>(
  table: TableClient,
  pk: string,
  prefix: string,
  actualId: string,
  idOf: (r: T) => string,
): Promise<T | undefined> {
  const filter = odata`PartitionKey eq ${pk} and RowKey ge ${recordKey(prefix, actualId)} and RowKey lt ${prefixEnd(prefix)}`;
  const pages = table.listEntities<PagedRow>({ queryOptions: { filter, select: ['RowKey', 'json'] } }).byPage({ maxPageSize: 1 });
  // The service may answer a page with no rows and a continuation token; the next page then has the row.
  for await (const page of pages) {
    const row = page[0];
    if (row) return recordsOfRow<T>(row).find((r) => idOf(r) === actualId);
  }
  return undefined;
}
