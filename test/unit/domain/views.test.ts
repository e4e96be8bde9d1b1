import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numberLines } from '../../../shared/domain/importPlan';
import { actualView, correctionWarnings, invoiceTypeOf, proposalView } from '../../../shared/domain/views';
import { actual, billed, decimal, GUID, header, postedHeader, STATUSES } from '../support/domain';

const [A, B] = [GUID(1, 'act'), GUID(2, 'act')];
const a = billed({ actualId: A, amount: '100.00', documentDate: '2026-11-02' });
const b = billed({ actualId: B, amount: '20.00', documentDate: '2026-11-01', quantity: undefined, price: undefined });
const lines = numberLines([a, b]);
const created = header({ transactionCount: 2 }, { status: 'LinesCreated', reason: null, activeBuild: 'b1', lineCount: 2 });

describe('invoiceTypeOf: a negative total posts as a credit note', () => {
  it('is a credit note exactly when totalAmount is below zero', () => {
    fc.assert(
      fc.property(decimal(), ({ text, micros }) => {
        expect(invoiceTypeOf(header({ totalAmount: text }))).toBe(micros < 0n ? 'CreditNote' : 'Invoice');
      }),
    );
  });

  it('treats a zero total, even written "-0.00", as an invoice', () => {
    expect(invoiceTypeOf(header({ totalAmount: '-0.00' }))).toBe('Invoice');
  });
});

describe('correctionWarnings: a corrective whose original is not a posted proposal here', () => {
  const corrective = header({ proposalId: 'PINV-2', correctsProposalId: 'PINV-1' });

  it('warns of nothing for an invoice that corrects nothing', () => {
    expect(correctionWarnings(header(), undefined)).toEqual([]);
  });

  it('warns when the original was never received', () => {
    expect(correctionWarnings(corrective, undefined)).toEqual([expect.stringContaining('PINV-1')]);
  });

  it.each(['AwaitingLines', 'LinesCreated', 'Error'] as const)('warns when the original is %s, not posted', (status) => {
    expect(correctionWarnings(corrective, header({ proposalId: 'PINV-1' }, { status }))).toEqual([
      expect.stringContaining(`status ${status}`),
    ]);
  });

  it('warns of nothing when the original is posted', () => {
    expect(correctionWarnings(corrective, postedHeader({ proposalId: 'PINV-1' }))).toEqual([]);
  });
});

describe('proposalView', () => {
  it('shows lines only while they are the proposal lines (created or posted)', () => {
    for (const status of STATUSES) {
      const h = status === 'Posted' ? postedHeader({ transactionCount: 2 }) : { ...created, status };
      expect(proposalView(h, lines).lines).toHaveLength(status === 'LinesCreated' || status === 'Posted' ? 2 : 0);
    }
  });

  it('lists lines by line number, with absent quantity and price as null', () => {
    expect(proposalView(created, [...lines].reverse()).lines).toEqual([
      {
        lineNumber: 1,
        actualId: B,
        transactionClassification: b.transactionClassification,
        projectId: b.projectId,
        quantity: null,
        price: null,
        amount: '20.00',
      },
      {
        lineNumber: 2,
        actualId: A,
        transactionClassification: a.transactionClassification,
        projectId: a.projectId,
        quantity: a.quantity,
        price: a.price,
        amount: '100.00',
      },
    ]);
  });

  it('shows the posting without its internal id, and optional invoice fields as null', () => {
    const posted = postedHeader({ description: undefined });
    const { postingId: _internal, ...shown } = posted.posting!;
    const view = proposalView(posted, []);
    expect(view.posting).toEqual(shown);
    expect(view).toMatchObject({ description: null, correctsProposalId: null, status: 'Posted', warnings: [] });
  });

  it('carries the warnings and the invoice type it is given', () => {
    const view = proposalView(header({ totalAmount: '-5.00' }), [], ['look']);
    expect(view).toMatchObject({ warnings: ['look'], invoiceType: 'CreditNote', posting: null, lines: [] });
  });
});

describe('actualView', () => {
  it('an actual that arrived after its proposal was posted says so, and does not claim to wait for an import', () => {
    const late = billed({ actualId: GUID(9, 'ac7ac7ac') });
    const view = actualView({ actual: late, header: postedHeader({ transactionCount: 2 }), line: undefined, posted: undefined });
    expect(view.status).toBe('Pending');
    expect(view.reason).toMatch(/was posted without this actual: it arrived too late/);
  });

  const lineOf = (id: string) => lines.find((l) => l.actual.actualId === id)!;

  it('says an actual other than billed sales is not for invoice', () => {
    const view = actualView({ actual: actual({ transactionType: 'Cost' }), header: created, line: undefined, posted: undefined });
    expect(view).toMatchObject({ status: 'NotForInvoice', proposalId: null, lineNumber: null, accounting: null });
    expect(view.reason).toContain('Cost');
  });

  it('is pending while its header has not arrived', () => {
    const view = actualView({ actual: a, header: undefined, line: undefined, posted: undefined });
    expect(view).toMatchObject({ status: 'Pending', proposalId: a.proposalId, reason: expect.stringContaining('header') });
  });

  it("is pending with the header's reason while the proposal awaits its lines", () => {
    const awaiting = header({}, { reason: 'waiting for billed sales actuals: 1 of 2 staged' });
    expect(actualView({ actual: a, header: awaiting, line: undefined, posted: undefined })).toMatchObject({
      status: 'Pending',
      reason: awaiting.reason,
    });
  });

  it('is pending when a newer version is staged than the one on the line', () => {
    const view = actualView({ actual: { ...a, version: 2 }, header: created, line: lineOf(A), posted: undefined });
    expect(view).toMatchObject({ status: 'Pending', lineNumber: null, reason: expect.stringContaining('Import from staging') });
  });

  it('is processed on its line once the lines are created, without accounting yet', () => {
    const view = actualView({ actual: a, header: created, line: lineOf(A), posted: undefined });
    expect(view).toMatchObject({
      status: 'Processed',
      billingStatus: 'CustomerInvoiceCreated',
      lineNumber: lineOf(A).lineNumber,
      accounting: null,
      refusedVersion: null,
    });
  });

  it("shows the posting's accounting once posted", () => {
    const posted = postedHeader({ transactionCount: 2 });
    const view = actualView({ actual: a, header: posted, line: lineOf(A), posted: { accountingAmount: '92.00', salesTaxAmount: '8.00' } });
    expect(view).toMatchObject({ status: 'Processed', billingStatus: 'CustomerInvoicePosted' });
    expect(view.accounting).toEqual({
      voucher: posted.posting!.voucher,
      accountingDate: posted.posting!.accountingDate,
      accountingAmount: '92.00',
      salesTaxAmount: '8.00',
      exchangeRate: posted.posting!.exchangeRate,
      accountingCurrency: posted.posting!.accountingCurrency,
      customerInvoiceId: posted.posting!.customerInvoiceId,
    });
  });

  it('shows the posted version and the version the register refused after posting', () => {
    const refused = { version: 3, reason: 'arrived after posting' };
    const view = actualView({ actual: a, refused, header: postedHeader({ transactionCount: 2 }), line: lineOf(A), posted: undefined });
    expect(view).toMatchObject({ status: 'Processed', version: a.version, amount: a.amount, refusedVersion: refused });
  });

  it('keeps showing the posted version when a later one reached the register, and names the later one', () => {
    const later = { ...a, version: 4, amount: '999.00' };
    const view = actualView({ actual: later, header: postedHeader({ transactionCount: 2 }), line: lineOf(A), posted: undefined });
    expect(view).toMatchObject({ status: 'Processed', version: a.version, amount: a.amount });
    expect(view.refusedVersion).toEqual({ version: 4, reason: expect.stringContaining(`keeps version ${a.version}`) });
  });
});
