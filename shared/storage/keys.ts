/**
 * Table keys. Ids come from other systems and may hold `/ \ # ?`, quotes or any
 * other character; none of those may reach a PartitionKey or RowKey. Each id is
 * encoded to [A-Za-z0-9.-] with `_XXXX` (UTF-16 code unit, hex) for everything
 * else, which is total, reversible, and never produces the `|` separator.
 */
const SAFE = /[A-Za-z0-9.-]/;

export function encodeKeyPart(id: string): string {
  let out = '';
  for (let i = 0; i < id.length; i++) {
    const ch = id[i]!;
    out += SAFE.test(ch) ? ch : `_${id.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return out;
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
