/**
 * Dates in the service endpoint's JSON message, written by .NET's
 * DataContractJsonSerializer as "/Date(ms)/" or "/Date(ms+hhmm)/".
 *
 * `ms` is always milliseconds since 1970-01-01 UTC. The optional offset only
 * says the value was a local (or unspecified-kind) DateTime and what the
 * server's offset was; the wall-clock time it stood for is ms + offset. A
 * date-only column (DateOnly format) arrives as midnight of that wall clock.
 */
const WCF_DATE = /^\/Date\((-?\d{1,16})(?:([+-])(\d{2})(\d{2}))?\)\/$/;
/** ECMAScript's Date range, ±100,000,000 days around 1970. */
const MAX_MS = 8.64e15;
const DAY_MS = 86_400_000;

export type WcfDate = { readonly epochMs: number; readonly offsetMinutes: number | undefined };

/** Throws RangeError("malformed /Date()…") for anything that is not such a date. */
export function parseWcfDate(text: unknown): WcfDate {
  if (typeof text !== 'string') throw new RangeError('malformed /Date(): not a string');
  const m = WCF_DATE.exec(text);
  if (!m) throw new RangeError(`malformed /Date(): ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`);
  const [, ms = '', sign, hh, mm] = m;
  const epochMs = Number(ms);
  if (Math.abs(epochMs) > MAX_MS) throw new RangeError(`malformed /Date(): ${ms} ms is outside the representable range`);
  if (sign === undefined) return { epochMs, offsetMinutes: undefined };
  const hours = Number(hh);
  const minutes = Number(mm);
  if (hours > 14 || minutes > 59) throw new RangeError(`malformed /Date(): offset ${sign}${hh}${mm} is not a UTC offset`);
  return { epochMs, offsetMinutes: (sign === '-' ? -1 : 1) * (hours * 60 + minutes) };
}

/** The instant as ISO 8601 UTC, e.g. "2023-11-14T22:13:20.000Z". */
export function instantFromWcfDate(text: unknown): string {
  return new Date(parseWcfDate(text).epochMs).toISOString();
}

/**
 * The calendar date of a date-only value, "YYYY-MM-DD". A time of day other
 * than midnight means the column is not date-only (or was converted from a
 * user's time zone), and taking its UTC date could shift it by a day: refused.
 */
export function dateFromWcfDate(text: unknown): string {
  const { epochMs, offsetMinutes } = parseWcfDate(text);
  const wallClock = epochMs + (offsetMinutes ?? 0) * 60_000;
  const iso = new Date(wallClock).toISOString();
  if (!/^\d{4}-/.test(iso)) throw new RangeError(`falls outside the years 0000–9999 (${iso})`);
  if (((wallClock % DAY_MS) + DAY_MS) % DAY_MS !== 0) {
    throw new RangeError(`carries a time of day (${iso}); expected a date-only value at midnight`);
  }
  return iso.slice(0, 10);
}
