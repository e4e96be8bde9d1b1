import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Posting } from '../../../shared/contracts/posting';
import { decidePosting, namesLinesOnShow, postingId } from '../../../shared/domain/posting';
import { actualIdsDigest } from '../../../shared/domain/proposal';
import { GUID, header, posting, postedHeader, shuffled } from '../support/domain';

const [A, B, C] = [1, 2, 3].map((n) => GUID(n, 'act')) as [string, string, string];
const withLines = header({ transactionCount: 2 }, { status: 'LinesCreated', reason: null, activeBuild: 'b1', lineCount: 2 });

describe('postingId: same posting content, same id', () => {
  it('does not depend on the order Finance lists the lines in', () => {
    const p = posting([A, B, C]);
    fc.assert(
      fc.property(shuffled(p.lines), (lines) => {
        expect(postingId({ ...p, lines })).toBe(postingId(p));
      }),
    );
  });

  it.each([
    ['voucher', { voucher: 'VOU-2' }],
    ['customer invoice', { customerInvoiceId: 'CIV-2' }],
    ['accounting date', { accountingDate: '2026-11-22' }],
    ['accounting currency', { accountingCurrency: 'EUR' }],
    ['exchange rate', { exchangeRate: '1.1' }],
  ])('changes with the %s', (_, change) => {
    expect(postingId({ ...posting([A]), ...change })).not.toBe(postingId(posting([A])));
  });

  it("changes with a line's amounts or with the actuals named", () => {
    const p = posting([A, B]);
    const [first, second] = p.lines as [Posting['lines'][number], Posting['lines'][number]];
    expect(postingId({ ...p, lines: [{ ...first, accountingAmount: '10.01' }, second] })).not.toBe(postingId(p));
    expect(postingId({ ...p, lines: [first, { ...second, salesTaxAmount: '0.01' }] })).not.toBe(postingId(p));
    expect(postingId(posting([A, C]))).not.toBe(postingId(p));
  });
});

describe('decidePosting: named cases', () => {
  it('finds nothing to post without a header', () => {
    expect(decidePosting(undefined, [A], posting([A]))).toEqual({ kind: 'notFound' });
  });

  it('posts when the posting names exactly the lines, recording what Finance sent', () => {
    const p = posting([B, A]);
    expect(decidePosting(withLines, [A, B], p)).toEqual({
      kind: 'post',
      record: {
        postingId: postingId(p),
        customerInvoiceId: p.customerInvoiceId,
        voucher: p.voucher,
        accountingDate: p.accountingDate,
        accountingCurrency: p.accountingCurrency,
        exchangeRate: p.exchangeRate,
      },
    });
  });

  it('names the lines a posting misses and the actuals it names that are not lines', () => {
    const decision = decidePosting(withLines, [A, B], posting([A, C]));
    expect(decision).toMatchObject({ kind: 'linesMismatch', missing: [B], unknown: [C] });
    if (decision.kind === 'linesMismatch') expect(decision.reason).toContain('exactly');
  });

  it.each(['AwaitingLines', 'Error'] as const)('refuses to post a %s proposal: it has no lines', (status) => {
    const decision = decidePosting(header({}, { status, reason: 'why' }), [A], posting([A]));
    expect(decision).toEqual({ kind: 'conflict', reason: expect.stringContaining(`status ${status}`) });
  });

  it('treats the same posting again as a repeat, even with its lines in another order', () => {
    const first = posting([A, B]);
    const posted = postedHeader({}, postingId(first));
    expect(decidePosting(posted, [A, B], posting([B, A]))).toEqual({ kind: 'repeat', record: posted.posting });
  });

  it('refuses a different posting of a posted proposal, naming the customer invoice it is posted as', () => {
    const posted = postedHeader({}, postingId(posting([A])));
    const decision = decidePosting(posted, [A], posting([A], { voucher: 'VOU-OTHER' }));
    expect(decision).toEqual({ kind: 'conflict', reason: expect.stringContaining(posted.posting!.customerInvoiceId) });
  });
});

describe('decidePosting: a posting matches exactly the proposal lines', () => {
  const pool = [1, 2, 3, 4, 5, 6].map((n) => GUID(n, 'act'));
  const someIds = fc.subarray(pool);
  const nonEmptyIds = fc.subarray(pool, { minLength: 1 });

  it("posts exactly when the posting names the proposal's lines, and otherwise names the differences", () => {
    fc.assert(
      fc.property(someIds, nonEmptyIds, fc.boolean(), (lineIds, postedIds, reorder) => {
        const named = reorder ? [...postedIds].reverse() : postedIds;
        const decision = decidePosting(withLines, lineIds, posting(named));
        const missing = lineIds.filter((id) => !postedIds.includes(id)).sort();
        const unknown = postedIds.filter((id) => !lineIds.includes(id)).sort();
        if (missing.length === 0 && unknown.length === 0) expect(decision.kind).toBe('post');
        else expect(decision).toMatchObject({ kind: 'linesMismatch', missing, unknown });
      }),
    );
  });

  it('once posted, accepts only the very same posting again', () => {
    fc.assert(
      fc.property(nonEmptyIds, nonEmptyIds, (postedIds, laterIds) => {
        const first = posting(postedIds);
        const posted = postedHeader({}, postingId(first));
        const same = [...postedIds].sort().join() === [...laterIds].sort().join();
        expect(decidePosting(posted, postedIds, posting(laterIds)).kind).toBe(same ? 'repeat' : 'conflict');
      }),
    );
  });
});

describe('namesLinesOnShow: the header vouches for its lines without their being read', () => {
  const vouched = { ...withLines, lineActuals: { build: 'b1', digest: actualIdsDigest([A, B]) } };

  it('holds for a posting naming exactly the actuals of the active build, in any order', () => {
    fc.assert(
      fc.property(shuffled([A, B]), (ids) => {
        expect(namesLinesOnShow(vouched, posting(ids))).toBe(true);
      }),
    );
  });

  it('does not hold for one actual too few, too many or another, so the lines are read to say which', () => {
    for (const ids of [[A], [A, B, C], [A, C]]) expect(namesLinesOnShow(vouched, posting(ids)), ids.join(',')).toBe(false);
  });

  it('does not hold for a digest of another build (written before the lines changed) or a header without one', () => {
    expect(namesLinesOnShow({ ...vouched, activeBuild: 'b2' }, posting([A, B]))).toBe(false);
    expect(namesLinesOnShow({ ...vouched, activeBuild: null }, posting([A, B]))).toBe(false);
    expect(namesLinesOnShow(withLines, posting([A, B]))).toBe(false);
  });
});
