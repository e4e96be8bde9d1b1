import { describe, expect, it } from 'vitest';
import { postingSchema } from '../../../shared/contracts/posting';
import { GUID, posting } from '../support/domain';
import { parseWith } from '../support/contracts';

const parse = parseWith(postingSchema);
/** A real GUID (hex only), which Dataverse compares case-insensitively. */
const ACTUAL = GUID(1, 'ac7ac7ac');

describe("postingSchema: Finance's posting callback", () => {
  it('accepts a posting naming its lines, with their actual ids normalised', () => {
    const result = parse(posting([ACTUAL.toUpperCase()]));
    expect(result).toMatchObject({ ok: true, value: { lines: [{ actualId: ACTUAL }] } });
  });

  it('refuses a posting that names one actual twice, however it spells the id', () => {
    const result = parse(posting([ACTUAL, `{${ACTUAL.toUpperCase()}}`]));
    expect(result).toEqual({ ok: false, reason: `lines.1.actualId: names actual ${ACTUAL} twice` });
  });

  it('refuses a posting with no lines', () => {
    expect(parse(posting([]))).toEqual({ ok: false, reason: expect.stringMatching(/^lines: /) });
  });

  it.each(['1', '1.0825', '0.5'])('accepts the exchange rate %s', (rate) => {
    expect(parse(posting(['a1'], { exchangeRate: rate })).ok).toBe(true);
  });

  it.each(['0', '0.000', '-1', '1e2', '01'])('refuses the exchange rate %s: it must be a positive decimal', (rate) => {
    expect(parse(posting(['a1'], { exchangeRate: rate }))).toEqual({ ok: false, reason: expect.stringMatching(/^exchangeRate: /) });
  });
});
