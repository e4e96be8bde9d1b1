/**
 * Exact decimal text for the numbers Dataverse puts in its JSON message.
 *
 * The service endpoint's JSON format writes Money and decimal values as bare
 * JSON numbers (e.g. `"Value": 1234.5`). We never do arithmetic on them: the
 * number's *text* is turned into a plain decimal string. Two sources of text:
 *
 * - an `ExactNumber` (see exactJson.ts) carries the literal exactly as sent;
 * - an already-parsed JS number is rendered by `String(n)`, which gives the
 *   shortest text that reads back as the same double. Any literal of at most
 *   15 significant digits survives that round trip unchanged, so such amounts
 *   are exact. A number whose shortest text needs 16 or more digits may have
 *   been rounded by JSON.parse already; we refuse it rather than guess.
 *
 * Either way the result has no exponent, no trailing fraction zeros and no "-0".
 */
import { ExactNumber } from './exactNumber';

const LITERAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
/** Beyond this a literal is not an amount or a version; it would only pad zeros. */
const MAX_DIGITS = 60;
/** Every decimal of at most this many significant digits round-trips through a double. */
const DOUBLE_SAFE_DIGITS = 15;

/** "1.50e+3" → "1500", "-0.000" → "0", "1e-7" → "0.0000001". Throws RangeError for what is not a JSON number. */
export function canonicalDecimal(literal: string): string {
  const m = LITERAL.exec(literal);
  if (!m) throw new RangeError(`${JSON.stringify(literal)} is not a decimal number`);
  const [, sign, whole = '', fraction = '', exponent = '0'] = m;
  const digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  // Position of the decimal point counted from the first significant digit.
  const leadingZeros = (whole + fraction).length - digits.length;
  const point = whole.length - leadingZeros + Number(exponent);
  if (Math.abs(point) > MAX_DIGITS || digits.length > MAX_DIGITS) {
    throw new RangeError(`${literal} is out of range for a decimal amount`);
  }
  let text: string;
  if (point <= 0) text = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) text = digits + '0'.repeat(point - digits.length);
  else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  if (text.includes('.')) text = text.replace(/0+$/, '').replace(/\.$/, '');
  return sign && text !== '0' ? `-${text}` : text;
}

/** Significant digits of a literal: its digits without leading or trailing zeros. */
export function significantDigits(literal: string): number {
  const mantissa = literal.replace(/[eE].*$/, '').replace(/[-.]/g, '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length;
}

/**
 * The exact decimal text of a numeric JSON value: an ExactNumber, a finite JS
 * number of at most 15 significant digits, or a decimal string (the Web API
 * sends those when asked for IEEE754-compatible output). Throws RangeError
 * with the reason otherwise.
 */
export function decimalFromJson(value: unknown): string {
  if (value instanceof ExactNumber) return canonicalDecimal(value.text);
  if (typeof value === 'string') return canonicalDecimal(value);
  if (typeof value !== 'number') throw new RangeError(`is ${describe(value)}, expected a number`);
  if (!Number.isFinite(value)) throw new RangeError(`is ${value}, expected a finite number`);
  const shortest = String(value);
  if (significantDigits(shortest) > DOUBLE_SAFE_DIGITS) {
    throw new RangeError(
      `${shortest} has more than ${DOUBLE_SAFE_DIGITS} significant digits and may have been rounded by JSON.parse; read the message text with readDataverseJson`,
    );
  }
  return canonicalDecimal(shortest);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof ExactNumber) return `the number ${value.text}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}
