import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { awaitingReason, decideHeader, departedReason, takeDownFor, type ProposalHeader } from '../../../shared/domain/proposal';
import { GUID, header, invoice, postedHeader, shuffled, STATUSES } from '../support/domain';

const linesCreated = (inv: Parameters<typeof invoice>[0] = {}) =>
  header(
    { detailAmount: '100.00', totalAmount: '100.00', transactionCount: 2, ...inv },
    { status: 'LinesCreated', reason: null, activeBuild: 'b1', lineCount: 2 },
  );

describe('decideHeader: what a delivered confirmed invoice does to the stored header', () => {
  it('creates a first header awaiting all its actuals, with no lines and no posting', () => {
    const inv = invoice({ transactionCount: 3 });
    expect(decideHeader(undefined, inv)).toEqual({
      kind: 'create',
      header: { invoice: inv, status: 'AwaitingLines', reason: awaitingReason(0, 3), activeBuild: null, lineCount: 0, posting: null },
    });
  });

  it('ignores a stale (lower) version and says which version is stored', () => {
    expect(decideHeader(header({ version: 5 }), invoice({ version: 4, description: 'older' }))).toEqual({
      kind: 'stale',
      storedVersion: 5,
    });
  });

  it('sees the same version with the same content as a duplicate, whatever the key order', () => {
    const stored = header({ version: 3 });
    const reordered = Object.fromEntries(Object.entries(invoice({ version: 3 })).reverse()) as typeof stored.invoice;
    expect(decideHeader(stored, reordered)).toEqual({ kind: 'duplicate' });
  });

  it('rejects the same version with different content (a field changed, added or removed)', () => {
    const stored = header({ version: 3 });
    expect(decideHeader(stored, invoice({ version: 3, description: 'changed' })).kind).toBe('reject');
    expect(decideHeader(stored, invoice({ version: 3, correctsProposalId: 'PINV-0' })).kind).toBe('reject');
    const { description: _dropped, ...withoutDescription } = invoice({ version: 3 });
    expect(decideHeader(stored, withoutDescription).kind).toBe('reject');
  });

  it('never changes a posted proposal: a higher version is rejected, naming the voucher', () => {
    const decision = decideHeader(postedHeader({ version: 1 }), invoice({ version: 2, description: 'after posting' }));
    expect(decision).toEqual({ kind: 'reject', reason: expect.stringContaining('VOU-1') });
  });

  it('rejects a higher version that moves the proposal to another invoice', () => {
    const decision = decideHeader(header({ version: 1 }), invoice({ version: 2, invoiceId: GUID(9, 'inv') }));
    expect(decision).toEqual({ kind: 'reject', reason: expect.stringContaining(GUID(9, 'inv')) });
  });

  it.each([
    ['the detail amount', { detailAmount: '90.00', totalAmount: '90.00' }],
    ['the transaction count', { transactionCount: 3 }],
    ['the currency', { currency: 'EUR' }],
  ])('takes the lines down when a higher version changes %s, so old lines never show under new totals', (_, change) => {
    const stored = linesCreated({ version: 1 });
    const incoming = { ...stored.invoice, version: 2, ...change };
    expect(decideHeader(stored, incoming)).toEqual({
      kind: 'update',
      header: {
        ...stored,
        invoice: incoming,
        status: 'AwaitingLines',
        reason: expect.stringContaining('version 2'),
        activeBuild: null,
        lineCount: 0,
      },
    });
  });

  it('keeps the lines when a higher version leaves the totals as they were (amounts compared by value)', () => {
    const stored = linesCreated({ version: 1 });
    const incoming = { ...stored.invoice, version: 2, description: 'renamed', detailAmount: '100', totalAmount: '100.000' };
    expect(decideHeader(stored, incoming)).toEqual({ kind: 'update', header: { ...stored, invoice: incoming } });
  });

  it.each(['AwaitingLines', 'Error'] as const)('updates a %s header and leaves its status for Import from staging to decide', (status) => {
    const stored = header({ version: 1 }, { status, reason: 'why' });
    const incoming = invoice({ version: 2, transactionCount: 4 });
    expect(decideHeader(stored, incoming)).toEqual({ kind: 'update', header: { ...stored, invoice: incoming } });
  });

  it('only ever replaces the stored invoice with a higher version', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STATUSES), fc.nat(10), fc.nat(10), fc.boolean(), (status, storedVersion, version, sameText) => {
        const stored = status === 'Posted' ? postedHeader({ version: storedVersion }) : header({ version: storedVersion }, { status });
        const decision = decideHeader(stored, invoice({ version, description: sameText ? stored.invoice.description : 'other' }));
        if (decision.kind === 'update') expect(version).toBeGreaterThan(storedVersion);
        if (decision.kind === 'stale') expect(version).toBeLessThan(storedVersion);
        if (version > storedVersion) expect(decision.kind).toBe(status === 'Posted' ? 'reject' : 'update');
      }),
    );
  });

  it('a higher version wins whatever the order, redeliveries included', () => {
    const versions = fc.uniqueArray(fc.nat(1000), { minLength: 1, maxLength: 8 });
    const deliveries = versions.chain((vs) => fc.tuple(fc.constant(vs), shuffled([...vs, ...vs])));
    fc.assert(
      fc.property(deliveries, ([vs, order]) => {
        // Each version carries its own content, so the survivor is recognisable.
        const sent = (v: number) => invoice({ version: v, description: `v${v}` });
        let stored: ProposalHeader | undefined;
        for (const v of order) {
          const decision = decideHeader(stored, sent(v));
          expect(decision.kind).not.toBe('reject');
          if (decision.kind === 'create' || decision.kind === 'update') stored = decision.header;
        }
        expect(stored?.invoice).toEqual(sent(Math.max(...vs)));
      }),
    );
  });
});

describe('takeDownFor: an actual left for another proposal', () => {
  it('takes created lines off show at once, naming the actual', () => {
    const after = takeDownFor(linesCreated(), 'act-7');
    expect(after).toMatchObject({ status: 'AwaitingLines', activeBuild: null, lineCount: 0 });
    expect(after.reason).toContain('act-7');
  });

  it.each(['AwaitingLines', 'Error', 'Posted'] as const)('leaves a %s header as it is (a posted invoice keeps its lines)', (status) => {
    const stored = status === 'Posted' ? postedHeader() : header({}, { status, reason: 'why' });
    expect(takeDownFor(stored, 'act-7')).toBe(stored);
  });
});

describe('departedReason and awaitingReason: reasons a reader can act on', () => {
  it('names a single departed actual', () => {
    expect(departedReason(['a1'])).toMatch(/^actual a1 no longer belongs/);
  });

  it('names up to three departed actuals and counts the rest', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^act-\d{1,4}$/), { minLength: 2, maxLength: 12 }), (ids) => {
        const reason = departedReason(ids);
        for (const id of ids.slice(0, 3)) expect(reason).toContain(id);
        for (const id of ids.slice(3)) expect(reason).not.toContain(`${id},`);
        if (ids.length > 3) expect(reason).toContain(`and ${ids.length - 3} more`);
        else expect(reason).not.toContain('more');
      }),
    );
  });

  it('says how many actuals are staged out of how many', () => {
    expect(awaitingReason(2, 5)).toContain('2 of 5');
  });
});
