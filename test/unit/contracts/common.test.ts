import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  describeIssues,
  identifier,
  jsonPayload,
  legalEntity,
  money,
  normaliseRowId,
  nullsAsAbsent,
  rowVersion,
} from '../../../shared/contracts/common';
import { isMoney } from '../../../shared/contracts/money';

/** A GUID spelt any way Dataverse and its tools spell one: any letter case, with or without braces. */
const guidSpellings = fc
  .tuple(fc.uuid(), fc.array(fc.boolean(), { minLength: 36, maxLength: 36 }), fc.boolean())
  .map(([guid, upper, braces]) => {
    const cased = [...guid].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
    return { guid, spelt: braces ? `{${cased}}` : cased };
  });

describe('normaliseRowId: one spelling per Dataverse row', () => {
  it('gives every spelling of a GUID the same lower-case, brace-free id', () => {
    fc.assert(
      fc.property(guidSpellings, ({ guid, spelt }) => {
        expect(normaliseRowId(spelt)).toBe(guid.toLowerCase());
      }),
    );
  });

  it('is idempotent, for GUIDs and anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          guidSpellings.map((g) => g.spelt),
          fc.string(),
        ),
        (id) => {
          expect(normaliseRowId(normaliseRowId(id))).toBe(normaliseRowId(id));
        },
      ),
    );
  });

  it('keeps an id that is not a GUID exactly as sent', () => {
    expect(normaliseRowId('ACT-0001')).toBe('ACT-0001');
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (id) => {
        fc.pre(!/^\{?[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\}?$/i.test(id));
        expect(normaliseRowId(id)).toBe(id);
      }),
    );
  });

  it('keeps a GUID with extra text around it as sent: it is not a GUID', () => {
    expect(normaliseRowId(' A1B2C3D4-0000-4000-8000-000000000001')).toBe(' A1B2C3D4-0000-4000-8000-000000000001');
  });
});

describe('nullsAsAbsent: Power Automate sends null for an empty column', () => {
  const schema = nullsAsAbsent(z.object({ name: z.string(), note: z.string().optional() }));

  it('reads a null optional field as absent', () => {
    expect(schema.parse({ name: 'n', note: null })).toEqual({ name: 'n' });
  });

  it('fails a null required field as missing, naming it', () => {
    const result = schema.safeParse({ name: null });
    expect(result.success).toBe(false);
    if (!result.success) expect(describeIssues(result.error)).toMatch(/^name: /);
  });

  it('passes what is not an object on to the schema unchanged', () => {
    expect(schema.safeParse(null).success).toBe(false);
    expect(nullsAsAbsent(z.array(z.null())).parse([null])).toEqual([null]);
  });
});

describe('field rules', () => {
  it('an identifier is non-empty, bounded, and free of control characters', () => {
    const id = identifier(5);
    expect(id.safeParse('abcde').success).toBe(true);
    expect(id.safeParse('').success).toBe(false);
    expect(id.safeParse('abcdef').success).toBe(false);
    expect(id.safeParse('a\u0000b').success).toBe(false);
    expect(id.safeParse('a\u009fb').success).toBe(false);
  });

  it('a legal entity is stored lower case', () => {
    expect(legalEntity.parse('USMF')).toBe('usmf');
  });

  it('money accepts exactly the amounts the domain can sum', () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^-?\d{1,16}(\.\d{0,7})?$/), fc.string({ maxLength: 8 })), (text) => {
        expect(money.safeParse(text).success).toBe(isMoney(text));
      }),
    );
  });

  it('a row version is a whole number from 0 to the largest exact integer', () => {
    expect(rowVersion.safeParse(0).success).toBe(true);
    expect(rowVersion.safeParse(Number.MAX_SAFE_INTEGER).success).toBe(true);
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 2, '1']) expect(rowVersion.safeParse(bad).success).toBe(false);
  });
});

describe('jsonPayload and describeIssues', () => {
  it('parses JSON text or a buffer, and passes a parsed value through', () => {
    expect(jsonPayload('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(jsonPayload(Buffer.from('[1]'))).toEqual({ ok: true, value: [1] });
    const parsed = { a: 1 };
    expect(jsonPayload(parsed)).toEqual({ ok: true, value: parsed });
  });

  it('says the body is not JSON rather than throwing', () => {
    expect(jsonPayload('{')).toEqual({ ok: false, reason: 'body: is not valid JSON' });
  });

  it('names the field at fault in every problem, and the body when there is no field', () => {
    const result = z.object({ lines: z.array(z.object({ id: z.string() })) }).safeParse({ lines: [{ id: 1 }] });
    if (result.success) throw new Error('a number is not a string');
    expect(describeIssues(result.error)).toMatch(/^lines\.0\.id: /);
    const whole = z.object({}).safeParse(7);
    if (whole.success) throw new Error('a number is not an object');
    expect(describeIssues(whole.error)).toMatch(/^body: /);
  });
});
