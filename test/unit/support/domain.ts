/**
 * Builders and fast-check arbitraries for the unit tests of the pure rules. The
 * invoice and actual builders are the integration tests' own (test/support/builders),
 * so both kinds of test speak of the same data.
 */
import fc from 'fast-check';
import type { BilledSalesActual } from '../../../shared/contracts/actual';
import type { ConfirmedInvoice } from '../../../shared/contracts/invoiceProposal';
import type { Posting } from '../../../shared/contracts/posting';
import type { ProposalHeader, ProposalStatus } from '../../../shared/domain/proposal';
import { actual, invoice } from '../../support/builders';

export { actual, invoice, GUID } from '../../support/builders';

/** A stored header as the pipeline keeps it; by default awaiting its lines. */
export function header(inv: Partial<ConfirmedInvoice> = {}, state: Partial<Omit<ProposalHeader, 'invoice'>> = {}): ProposalHeader {
  return {
    invoice: invoice(inv),
    status: 'AwaitingLines',
    reason: 'waiting',
    activeBuild: null,
    lineCount: 0,
    posting: null,
    ...state,
  };
}

export const postedHeader = (inv: Partial<ConfirmedInvoice> = {}, postingId = 'posting-1'): ProposalHeader =>
  header(inv, {
    status: 'Posted',
    reason: null,
    activeBuild: 'build-1',
    lineCount: inv.transactionCount ?? 1,
    posting: {
      postingId,
      customerInvoiceId: 'CIV-1',
      voucher: 'VOU-1',
      accountingDate: '2026-11-21',
      accountingCurrency: 'USD',
      exchangeRate: '1',
    },
  });

/** A billed sales actual of the builders' default invoice and proposal. */
export const billed = (overrides: Partial<BilledSalesActual> = {}): BilledSalesActual => actual(overrides) as BilledSalesActual;

/**
 * Finance's posting naming these actuals: the same accounting details as postedHeader's
 * record. (Not test/support/posting's postingFor, which pulls in the storage runtime
 * and would cost the unit tests seconds.)
 */
export function posting(actualIds: readonly string[], overrides: Partial<Posting> = {}): Posting {
  const { postingId: _id, ...details } = postedHeader().posting!;
  const lines = actualIds.map((actualId) => ({ actualId, accountingAmount: '10.00', salesTaxAmount: '0.00' }));
  return { ...details, lines, ...overrides };
}

export const STATUSES: readonly ProposalStatus[] = ['AwaitingLines', 'LinesCreated', 'Posted', 'Error'];

const MICRO = 1_000_000n;

/**
 * A decimal amount as Dataverse sends it, with the value it stands for in
 * micro-units worked out from its digits (whole × 10⁶ + fraction scaled), not
 * by the code under test. `maxWhole` bounds the integer part.
 */
export function decimal(maxWhole = 999_999_999_999_999n) {
  return fc
    .record({
      negative: fc.boolean(),
      whole: fc.bigInt({ min: 0n, max: maxWhole }),
      fraction: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 6 }),
    })
    .map(({ negative, whole, fraction }) => {
      const text = `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
      const micros = whole * MICRO + (fraction ? BigInt(fraction) * 10n ** BigInt(6 - fraction.length) : 0n);
      return { text, micros: negative ? -micros : micros };
    });
}

/** Picks each element's side: the split of one set of messages between what is held and what arrives. */
export function split<T>(items: readonly T[], sides: readonly boolean[]): [T[], T[]] {
  return [items.filter((_, i) => sides[i]), items.filter((_, i) => !sides[i])];
}

/** A list with the order shuffled by fast-check (a permutation, so shrinking stays readable). */
export const shuffled = <T>(items: readonly T[]) => fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
