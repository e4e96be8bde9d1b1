/**
 * Exact decimal money. Amounts travel as strings ("1234.50", up to 6 fractional
 * digits, optional leading "-") and are summed as integer micro-units in a
 * bigint, so no value ever passes through a binary float.
 */
export const MONEY_PATTERN = /^-?(0|[1-9]\d{0,14})(\.\d{1,6})?$/;
const SCALE = 6;
const UNIT = 10n ** BigInt(SCALE);

export type Money = bigint & { readonly __unit: 'micro' };

export function isMoney(text: string): boolean {
  return MONEY_PATTERN.test(text);
}

export function parseMoney(text: string): Money {
  if (!isMoney(text)) throw new RangeError(`not a decimal amount: ${JSON.stringify(text)}`);
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const micros = BigInt(whole!) * UNIT + BigInt(fraction.padEnd(SCALE, '0'));
  return (negative ? -micros : micros) as Money;
}

export function sumMoney(amounts: Iterable<string>): Money {
  let total = 0n;
  for (const a of amounts) total += parseMoney(a);
  return total as Money;
}

export function sameAmount(a: string, b: string): boolean {
  return parseMoney(a) === parseMoney(b);
}

/** Renders micro-units with at least `minFraction` decimals and no trailing zeros beyond them. */
export function formatMoney(value: Money | bigint, minFraction = 2): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / UNIT;
  let fraction = (abs % UNIT).toString().padStart(SCALE, '0').replace(/0+$/, '');
  if (fraction.length < minFraction) fraction = fraction.padEnd(minFraction, '0');
  const text = fraction ? `${whole}.${fraction}` : `${whole}`;
  return negative && abs !== 0n ? `-${text}` : text;
}
