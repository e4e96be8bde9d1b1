import { createHash } from 'node:crypto';

/**
 * Table keys. Ids come from other systems and may hold `/ \ # ?`, quotes or any
 * other character; none of those may reach a PartitionKey or RowKey. Each id is
 * encoded to [A-Za-z0-9.-] with `_XXXX` (UTF-16 code unit, hex) for everything
 * else, which is total, reversible (up to MAX_ENCODED below), and never produces
 * the `|` separator.
 */
const SAFE = /[A-Za-z0-9.-]/;

/**
 * A key holds at most 1 KiB, 512 UTF-16 characters (Azurite refuses a longer one, with 400). Encoding can make
 * an id five times longer, and a key combines several parts (a staged actual's row key: the proposal partition,
 * up to 121 characters, the actual id, a 16-digit version). So an encoded id longer than MAX_ENCODED is kept as
 * its first 300 characters, `~` (which encoding never produces) and a hash of the whole: still exactly one key
 * per id, but no longer decodable, which only proposal partitions need (legal entity ≤ 4 and proposal id ≤ 20
 * characters are at most 100 encoded, never shortened).
 */
const MAX_ENCODED = 360;

export function encodeKeyPart(id: string): string {
  let out = '';
  for (let i = 0; i < id.length; i++) {
    const ch = id[i]!;
    out += SAFE.test(ch) ? ch : `_${id.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  if (out.length <= MAX_ENCODED) return out;
  return `${out.slice(0, 300)}~${createHash('sha256').update(out).digest('hex').slice(0, 40)}`;
}

export function decodeKeyPart(key: string): string {
  return key.replace(/_([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export const SEPARATOR = '|';

/** One partition per proposal: header, actuals, lines and postings live together. */
export function proposalPartition(legalEntity: string, proposalId: string): string {
  return `${encodeKeyPart(legalEntity)}${SEPARATOR}${encodeKeyPart(proposalId)}`;
}

export function parseProposalPartition(pk: string): { legalEntity: string; proposalId: string } {
  const [le, pid] = pk.split(SEPARATOR);
  return { legalEntity: decodeKeyPart(le ?? ''), proposalId: decodeKeyPart(pid ?? '') };
}

/** Row versions sort as text in the key, so they are zero-padded. */
export function versionKey(version: number): string {
  return version.toString().padStart(16, '0');
}

/** The smallest key greater than every key that starts with `prefix` (for range queries). */
export function prefixEnd(prefix: string): string {
  return prefix + '\uffff';
}

/** Larger than any millisecond timestamp this product will see (year 2286). */
const MAX_MS = 9_999_999_999_999;

/** A key prefix that sorts the newest time first (Table Storage returns rows in key order only). */
export function newestFirst(at: string): string {
  return String(MAX_MS - Date.parse(at)).padStart(13, '0');
}

/** The time a `newestFirst` prefix was made from. */
export function timeOfNewestFirst(prefix: string): string {
  return new Date(MAX_MS - Number(prefix)).toISOString();
}
