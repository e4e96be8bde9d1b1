import { describe, expect, it } from 'vitest';
import {
  dateOnly,
  entityReference,
  guid,
  instant,
  int64Text,
  money,
  optionSetCode,
} from '../../../shared/contracts/dataverse/attributeValues';
import { ExactNumber } from '../../../shared/contracts/dataverse/exactNumber';
import { parseWcfDate } from '../../../shared/contracts/dataverse/wcfDate';
import { money as moneyValue, optionSetValue, reference, XRM_GUID } from '../../support/dataverseMessages';

describe('Money', () => {
  it('decodes to the exact decimal string of its Value', () => {
    expect(money(moneyValue(1250.5))).toBe('1250.5');
    expect(money(moneyValue(-0.01))).toBe('-0.01');
    expect(money({ Value: new ExactNumber('922337203685477.5807') })).toBe('922337203685477.5807');
  });

  it('refuses another complex type or a bare value', () => {
    expect(() => money(optionSetValue(1))).toThrow('is an OptionSetValue, expected a Money');
    expect(() => money(12.5)).toThrow('expected a Money');
    expect(() => money(moneyValue(Number.NaN))).toThrow(/finite/);
  });
});

describe('OptionSetValue', () => {
  it('decodes to its number', () => {
    expect(optionSetCode(optionSetValue(192350002))).toBe(192350002);
  });

  it('refuses a value that is not a whole number', () => {
    expect(() => optionSetCode(optionSetValue(1.5))).toThrow(/whole number/);
  });
});

describe('EntityReference', () => {
  it('decodes to a lower-cased id, its table and name', () => {
    const id = 'A1B2C3D4-0000-4000-8000-00000000000F';
    expect(entityReference('account')(reference('account', id, 'Contoso'))).toEqual({
      id: id.toLowerCase(),
      logicalName: 'account',
      name: 'Contoso',
    });
  });

  it('refuses a reference to a table the column does not point to', () => {
    expect(() => entityReference('account')(reference('contact', XRM_GUID(1)))).toThrow('points to a contact, expected account');
  });

  it('refuses an Id that is not a GUID', () => {
    expect(() => entityReference()(reference('account', 'not-a-guid'))).toThrow(/expected a GUID/);
  });
});

describe('GUID', () => {
  it('is lower-cased and loses braces', () => {
    expect(guid('{6D81597F-0F9F-E711-8122-000D3AA2331C}')).toBe('6d81597f-0f9f-e711-8122-000d3aa2331c');
  });
});

describe('/Date()', () => {
  it('reads an instant with or without the server offset', () => {
    expect(instant('/Date(1700000000000)/')).toBe('2023-11-14T22:13:20.000Z');
    expect(instant('/Date(1700000000000+0000)/')).toBe('2023-11-14T22:13:20.000Z');
    // The ms are UTC whatever the offset says (Microsoft's sample carries -0700).
    expect(instant('/Date(1506409448000-0700)/')).toBe('2017-09-26T07:04:08.000Z');
    expect(instant('/Date(-62135596800000)/')).toBe('0001-01-01T00:00:00.000Z');
  });

  it('reads a date-only value as the calendar date of its wall clock', () => {
    expect(dateOnly('/Date(1795996800000+0000)/')).toBe('2026-11-30');
    // Midnight local at UTC+01:00 is 23:00 UTC the day before.
    expect(dateOnly('/Date(1795993200000+0100)/')).toBe('2026-11-30');
  });

  it('refuses a date-only value that carries a time of day, rather than shift it by a day', () => {
    expect(() => dateOnly('/Date(1795993200000)/')).toThrow(/time of day \(2026-11-29T23:00:00.000Z\)/);
  });

  it.each([
    '/Date(abc)/',
    'Date(1700000000000)',
    '/Date(1700000000000+25:00)/',
    '/Date(1700000000000+1500)/',
    '2026-11-30',
    '/Date(99999999999999999)/',
  ])('calls %j a malformed /Date()', (text) => {
    expect(() => parseWcfDate(text)).toThrow(/malformed \/Date\(\)/);
  });

  it('calls a number a malformed /Date() too', () => {
    expect(() => instant(1700000000000)).toThrow(/malformed \/Date\(\): not a string/);
  });
});

describe('int64 versionnumber', () => {
  it('keeps its digits, whichever form it arrives in', () => {
    expect(int64Text(4711001)).toBe('4711001');
    expect(int64Text(new ExactNumber('9223372036854775807'))).toBe('9223372036854775807');
    expect(int64Text('9007199254740993')).toBe('9007199254740993');
  });

  it('refuses a parsed number beyond 2^53, which JSON.parse may have rounded', () => {
    expect(() => int64Text(JSON.parse('9007199254740993'))).toThrow(/beyond 2\^53/);
  });

  it('refuses fractions, negatives and values beyond int64', () => {
    expect(() => int64Text(1.5)).toThrow();
    expect(() => int64Text(-1)).toThrow(/0 or more/);
    expect(() => int64Text(new ExactNumber('9223372036854775808'))).toThrow(/int64/);
  });

  it('compares exactly as BigInt where doubles would call two versions equal', () => {
    const older = int64Text(new ExactNumber('9007199254740992'));
    const newer = int64Text(new ExactNumber('9007199254740993'));
    expect(Number(older)).toBe(Number(newer));
    expect(BigInt(newer) > BigInt(older)).toBe(true);
  });
});
