import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMoney, isMoney, parseMoney, sameAmount, sumMoney } from '../../../shared/contracts/money';
import { decimal, shuffled } from '../support/domain';

/** Canonical text: no "-0", at least two decimals, no trailing zero beyond them (what formatMoney promises). */
const canonical = fc
  .record({
    negative: fc.boolean(),
    whole: fc.bigInt({ min: 0n, max: 999_999_999_999_999n }),
    cents: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 2, maxLength: 2 }),
    more: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 4 }),
  })
  .map(({ negative, whole, cents, more }) => {
    const fraction = (cents + more).replace(/(?<=^\d{2}\d*?)0+$/, '');
    const zero = whole === 0n && /^0+$/.test(fraction);
    return `${negative && !zero ? '-' : ''}${whole}.${fraction}`;
  });

describe('isMoney: a decimal string of at most 15 integer and 6 fractional digits', () => {
  it.each(['0', '-0', '1', '1234.50', '0.000001', '-999999999999999.999999', '100.1'])('accepts %s', (text) => {
    expect(isMoney(text)).toBe(true);
  });

  it.each(['', '-', '+1', '01', '1.', '.5', '1e3', '1,00', ' 1', '1.1234567', '1000000000000000', 'NaN'])('refuses %j', (text) => {
    expect(isMoney(text)).toBe(false);
  });

  it('parseMoney refuses what isMoney refuses, so no odd text becomes an amount', () => {
    expect(() => parseMoney('1e3')).toThrow(RangeError);
    expect(() => parseMoney('0.1234567')).toThrow(RangeError);
  });
});

describe('parseMoney: the exact value in micro-units', () => {
  it('reads every decimal in range exactly, whatever its digits', () => {
    fc.assert(
      fc.property(decimal(), ({ text, micros }) => {
        expect(parseMoney(text)).toBe(micros);
      }),
    );
  });

  it('reads the smallest and largest amounts without rounding', () => {
    expect(parseMoney('0.000001')).toBe(1n);
    expect(parseMoney('-999999999999999.999999')).toBe(-(10n ** 21n - 1n));
  });
});

describe('sumMoney: sums are exact', () => {
  it('0.1 + 0.2 is exactly 0.3, which a binary float gets wrong', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(sumMoney(['0.1', '0.2'])).toBe(parseMoney('0.3'));
  });

  it('equals the sum of the values the digits stand for (a bigint reference), for any amounts in range', () => {
    fc.assert(
      fc.property(fc.array(decimal(), { maxLength: 30 }), (amounts) => {
        const reference = amounts.reduce((total, a) => total + a.micros, 0n);
        expect(sumMoney(amounts.map((a) => a.text))).toBe(reference);
      }),
    );
  });

  it('does not depend on the order or grouping of the amounts (commutative and associative)', () => {
    fc.assert(
      fc.property(
        fc
          .array(decimal(), { maxLength: 20 })
          .chain((amounts) =>
            fc.tuple(fc.constant(amounts.map((a) => a.text)), shuffled(amounts.map((a) => a.text)), fc.nat({ max: amounts.length })),
          ),
        ([texts, reordered, cut]) => {
          const whole = sumMoney(texts);
          expect(sumMoney(reordered)).toBe(whole);
          expect(sumMoney(texts.slice(0, cut)) + sumMoney(texts.slice(cut))).toBe(whole);
        },
      ),
    );
  });

  it('is zero for no amounts', () => {
    expect(sumMoney([])).toBe(0n);
  });
});

describe('formatMoney: renders micro-units', () => {
  it('keeps at least two decimals and drops trailing zeros beyond them', () => {
    expect(formatMoney(parseMoney('5'))).toBe('5.00');
    expect(formatMoney(parseMoney('1.5'))).toBe('1.50');
    expect(formatMoney(parseMoney('1.230000'))).toBe('1.23');
    expect(formatMoney(parseMoney('0.000001'))).toBe('0.000001');
  });

  it('honours the minimum number of decimals asked for', () => {
    expect(formatMoney(parseMoney('5'), 0)).toBe('5');
    expect(formatMoney(parseMoney('5.1'), 4)).toBe('5.1000');
  });

  it('never writes a negative zero', () => {
    expect(formatMoney(parseMoney('-0'))).toBe('0.00');
    expect(formatMoney(parseMoney('-0.000000'), 0)).toBe('0');
  });

  it('writes negative amounts with a leading minus, also below one', () => {
    expect(formatMoney(parseMoney('-0.5'))).toBe('-0.50');
    expect(formatMoney(parseMoney('-12.345'))).toBe('-12.345');
  });

  it('round-trips canonical strings: formatMoney(parseMoney(s)) is s', () => {
    fc.assert(
      fc.property(canonical, (text) => {
        expect(formatMoney(parseMoney(text))).toBe(text);
      }),
    );
  });

  it('round-trips values: parseMoney(formatMoney(v, k)) is v, for any minimum of decimals', () => {
    fc.assert(
      fc.property(decimal(), fc.integer({ min: 0, max: 6 }), ({ micros }, minFraction) => {
        const text = formatMoney(micros, minFraction);
        expect(isMoney(text)).toBe(true);
        expect(parseMoney(text)).toBe(micros);
      }),
    );
  });
});

describe('sameAmount: equal values, whatever the spelling', () => {
  it('treats trailing zeros and negative zero as the same amount', () => {
    expect(sameAmount('1.5', '1.500000')).toBe(true);
    expect(sameAmount('100', '100.00')).toBe(true);
    expect(sameAmount('-0', '0.00')).toBe(true);
  });

  it('tells different amounts apart, even by one micro-unit', () => {
    expect(sameAmount('1.5', '1.05')).toBe(false);
    expect(sameAmount('0.000001', '0')).toBe(false);
    expect(sameAmount('-1', '1')).toBe(false);
  });

  it('holds exactly when the values are equal', () => {
    fc.assert(
      fc.property(decimal(), decimal(), (a, b) => {
        expect(sameAmount(a.text, b.text)).toBe(a.micros === b.micros);
      }),
    );
  });

  it('holds between any amount and any rendering of it', () => {
    fc.assert(
      fc.property(decimal(), fc.integer({ min: 0, max: 6 }), (a, minFraction) => {
        expect(sameAmount(a.text, formatMoney(parseMoney(a.text), minFraction))).toBe(true);
      }),
    );
  });
});
