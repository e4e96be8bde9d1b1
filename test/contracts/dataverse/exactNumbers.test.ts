import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDecimal, decimalFromJson } from '../../../shared/contracts/dataverse/decimalText';
import { readDataverseJson } from '../../../shared/contracts/dataverse/exactJson';
import { ExactNumber } from '../../../shared/contracts/dataverse/exactNumber';

describe('decimal text of a JSON number', () => {
  it.each([
    ['1250.50', '1250.5'],
    ['1.5e3', '1500'],
    ['1E-7', '0.0000001'],
    ['-0.000', '0'],
    ['0012.3400', '12.34'],
    ['-12e-2', '-0.12'],
    ['922337203685477.5807', '922337203685477.5807'],
  ])('writes %s as the plain decimal %s', (literal, expected) => {
    expect(canonicalDecimal(literal)).toBe(expected);
  });

  it('renders a parsed number by its shortest round-trip text, normalising exponent notation', () => {
    expect(decimalFromJson(1250.5)).toBe('1250.5');
    expect(decimalFromJson(1e-7)).toBe('0.0000001');
    expect(decimalFromJson(1.5e21)).toBe('1500000000000000000000');
    expect(decimalFromJson(0.1)).toBe('0.1');
  });

  it('refuses a parsed number that a double may already have rounded', () => {
    expect(() => decimalFromJson(JSON.parse('922337203685477.5807'))).toThrow(/more than 15 significant digits/);
  });

  it('refuses what is not a finite number', () => {
    expect(() => decimalFromJson(Number.NaN)).toThrow(/finite/);
    expect(() => decimalFromJson(Number.POSITIVE_INFINITY)).toThrow(/finite/);
    expect(() => decimalFromJson({ Value: 1 })).toThrow(/expected a number/);
    expect(() => decimalFromJson('12,50')).toThrow(/not a decimal number/);
  });

  it('any amount of up to 15 significant digits survives JSON.parse exactly', () => {
    const amount = fc
      .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 11n - 1n }), fc.integer({ min: 0, max: 9999 }))
      .map(([negative, whole, fraction]) => `${negative ? '-' : ''}${whole}.${fraction.toString().padStart(4, '0')}`);
    fc.assert(
      fc.property(amount, (text) => {
        expect(decimalFromJson(JSON.parse(text))).toBe(canonicalDecimal(text));
      }),
    );
  });
});

describe('reading a Dataverse message without losing digits', () => {
  it('keeps an int64 beyond 2^53 as its exact text', () => {
    const value = readDataverseJson('{"key":"versionnumber","value":9007199254740993}') as { value: unknown };
    expect(value.value).toBeInstanceOf(ExactNumber);
    expect((value.value as ExactNumber).text).toBe('9007199254740993');
    expect(JSON.parse('9007199254740993')).toBe(9007199254740992);
  });

  it('keeps a Money value of 19 significant digits exactly', () => {
    const value = readDataverseJson('{"Value":922337203685477.5807}') as { Value: unknown };
    expect(decimalFromJson(value.Value)).toBe('922337203685477.5807');
  });

  it('gives plain numbers where a double is exact, so the result reads like JSON.parse', () => {
    const text = '{"a":[1,-2.5,1e3,0.1,null,true,false,"x\\/y\\u00e9"],"b":{"c":""}}';
    expect(readDataverseJson(text)).toEqual(JSON.parse(text));
  });

  it('treats a "__proto__" key as data, as JSON.parse does', () => {
    const value = readDataverseJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(['{"a":1,}', '[1 2]', '{"a":01}', '"unterminated', '{"a":1} extra', "{'a':1}", ''])('rejects malformed JSON %j', (text) => {
    expect(() => readDataverseJson(text)).toThrow(SyntaxError);
  });

  it('matches JSON.parse on arbitrary JSON of ordinary numbers', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'small' }), (text) => {
        const parsed = JSON.parse(text);
        const exact = readDataverseJson(text);
        // JSON.parse may round long literals; compare wherever nothing had to be kept exact.
        if (!containsExact(exact)) expect(exact).toEqual(parsed);
      }),
      { numRuns: 200 },
    );
  });
});

function containsExact(value: unknown): boolean {
  if (value instanceof ExactNumber) return true;
  if (Array.isArray(value)) return value.some(containsExact);
  if (value && typeof value === 'object') return Object.values(value).some(containsExact);
  return false;
}
