/**
 * Text longer than one table property holds (64 KiB) is kept across numbered
 * properties of the same row: text00, text01, … up to the row's 1 MiB limit.
 */
const CHUNK = 30_000; // UTF-16 characters: under 64 KiB per property
export const MAX_TEXT = CHUNK * 15; // 450,000 characters: under 1 MiB per row

export function splitText(text: string, prefix = 'text'): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i * CHUNK < Math.min(text.length, MAX_TEXT); i++) {
    out[`${prefix}${i.toString().padStart(2, '0')}`] = text.slice(i * CHUNK, (i + 1) * CHUNK);
  }
  return out;
}

export function joinText(row: Record<string, unknown>, prefix = 'text'): string {
  const pattern = new RegExp(`^${prefix}\\d\\d$`);
  return Object.keys(row)
    .filter((k) => pattern.test(k))
    .sort()
    .map((k) => String(row[k]))
    .join('');
}
