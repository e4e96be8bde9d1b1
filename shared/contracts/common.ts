import { z } from 'zod';
import { MONEY_PATTERN } from './money';

/** Control characters (Unicode Cc: U+0000–U+001F, U+007F–U+009F) never belong in an identifier, nor in a table key. */
const CONTROL = /\p{Cc}/u;

export const identifier = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters');

export const legalEntity = identifier(4).transform((s) => s.toLowerCase());

/** A GUID in any of the spellings Dataverse and its tools use: any letter case, with or without braces. */
const GUID =
  /^(?:\{([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))$/i;

/**
 * The one spelling of a Dataverse row id: GUIDs compare case-insensitively in
 * Dataverse, so `A1B2…` and `a1b2…` are the same row and must be the same key
 * here. Ids that are not GUIDs (own-contract test data, other systems) are kept
 * exactly as sent.
 */
export function normaliseRowId(id: string): string {
  const guid = GUID.exec(id);
  return guid ? (guid[1] ?? guid[2]!).toLowerCase() : id;
}

/** A Dataverse row id (actual, invoice), normalised with normaliseRowId. */
export const rowId = (max: number) => identifier(max).transform(normaliseRowId);

/**
 * Power Automate and Dataverse send `null` for an empty column. An optional
 * field that is null is treated as absent; a required one then fails as missing,
 * with its name.
 */
export function nullsAsAbsent<S extends z.ZodType>(schema: S) {
  return z.preprocess(
    (v) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) : v,
    schema,
  );
}

export const money = z
  .string()
  .regex(MONEY_PATTERN, 'must be a decimal string with at most 15 integer and 6 fractional digits, e.g. "1234.50"');

export const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of three capital letters');

export const isoDate = z.iso.date({ message: 'must be an ISO date YYYY-MM-DD' });

export const rowVersion = z
  .number({ message: 'must be a whole number' })
  .int('must be a whole number')
  .min(0, 'must be 0 or more')
  .max(Number.MAX_SAFE_INTEGER, 'is too large');

/** Parses JSON text or passes an already-parsed value through (the host may hand over either). */
export function jsonPayload(raw: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (typeof raw !== 'string' && !Buffer.isBuffer(raw)) return { ok: true, value: raw };
  try {
    return { ok: true, value: JSON.parse(raw.toString()) };
  } catch {
    return { ok: false, reason: 'body: is not valid JSON' };
  }
}

/** "field.path: message; …" — every problem names the field at fault. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}
