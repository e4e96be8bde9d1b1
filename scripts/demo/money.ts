import { formatMoney, parseMoney, type Money } from '../../shared/contracts/money';

/**
 * Decimal helpers on top of shared/contracts/money.ts for the demo: products and
 * cent rounding in bigint micro-units, never a binary float.
 */
const MICRO_SQUARED_PER_CENT = 10n ** 10n; // a product of two micro-unit values has scale 10^12

/** a × b, which must come out in whole cents (the demo's prices and quantities are chosen so). */
export function timesExact(a: string, b: string): string {
  const product = parseMoney(a) * parseMoney(b);
  if (product % MICRO_SQUARED_PER_CENT !== 0n) throw new RangeError(`${a} × ${b} is not a whole number of cents`);
  return formatMoney(((product / MICRO_SQUARED_PER_CENT) * 10_000n) as Money);
}

/** a × b rounded to cents, half away from zero (tax, currency conversion). */
export function timesToCents(a: string, b: string): string {
  const product = parseMoney(a) * parseMoney(b);
  const negative = product < 0n;
  const abs = negative ? -product : product;
  const cents = (abs + MICRO_SQUARED_PER_CENT / 2n) / MICRO_SQUARED_PER_CENT;
  return formatMoney(((negative ? -cents : cents) * 10_000n) as Money);
}

/** "1234567.5" → "1,234,567.50": for people, never parsed back. */
export function forPeople(amount: string | Money): string {
  const text = typeof amount === 'string' ? formatMoney(parseMoney(amount)) : formatMoney(amount);
  const [whole, fraction] = text.split('.');
  const sign = whole!.startsWith('-') ? '-' : '';
  const digits = sign ? whole!.slice(1) : whole!;
  return `${sign}${digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction === undefined ? '' : `.${fraction}`}`;
}

/**
 * A decimal string as the JSON number the Dataverse Web API (and the
 * stand-in) takes for Money and Decimal columns. Exact, not rounded: a
 * decimal of at most 15 significant digits survives the trip through an IEEE
 * double, and JSON prints the shortest form that reads back to the same
 * double, i.e. the same digits. Anything that would not come back identical
 * is refused rather than sent rounded.
 */
export function asJsonNumber(amount: string): number {
  const value = Number(amount);
  if (!Number.isFinite(value) || parseMoney(String(value)) !== parseMoney(amount)) {
    throw new RangeError(`${amount} cannot travel as a JSON number without rounding`);
  }
  return value;
}
