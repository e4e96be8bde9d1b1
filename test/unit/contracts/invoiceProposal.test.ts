import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { confirmedInvoiceSchema } from '../../../shared/contracts/invoiceProposal';
import { MAX_LINES, postingSchema } from '../../../shared/contracts/posting';
import { decimal, GUID, invoice, posting } from '../support/domain';
import { parseWith } from '../support/contracts';

const parse = parseWith(confirmedInvoiceSchema);

describe('confirmedInvoiceSchema: a confirmed pro forma invoice', () => {
  it('expects no more lines than one posting callback can name, so every proposal it accepts can be posted', () => {
    expect(confirmedInvoiceSchema.safeParse(invoice({ transactionCount: MAX_LINES })).success).toBe(true);
    expect(confirmedInvoiceSchema.safeParse(invoice({ transactionCount: MAX_LINES + 1 })).success).toBe(false);
    const ids = Array.from({ length: MAX_LINES }, (_, i) => `act-${i}`);
    expect(postingSchema.safeParse(posting(ids)).success).toBe(true);
  });

  it('accepts the builders invoice as it is', () => {
    expect(parse(invoice())).toEqual({ ok: true, value: invoice() });
  });

  it('bills at least one actual: transactionCount is a whole number from 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 200_000 }), (count) => {
        expect(parse(invoice({ transactionCount: count })).ok).toBe(count >= 1 && count <= MAX_LINES);
      }),
    );
    expect(parse(invoice({ transactionCount: 0 }))).toEqual({
      ok: false,
      reason: expect.stringMatching(/^transactionCount: must be at least 1/),
    });
    expect(parse(invoice({ transactionCount: 1.5 })).ok).toBe(false);
  });

  it('requires totalAmount to be exactly detailAmount + totalTax', () => {
    const amounts = fc.tuple(decimal(999_999_999n), decimal(999_999_999n), fc.boolean());
    fc.assert(
      fc.property(amounts, ([detail, tax, offByOne]) => {
        const total = detail.micros + tax.micros + (offByOne ? 1n : 0n);
        const abs = total < 0n ? -total : total;
        const totalText = `${total < 0n ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
        const result = parse(invoice({ detailAmount: detail.text, totalTax: tax.text, totalAmount: totalText }));
        expect(result).toEqual(
          offByOne ? { ok: false, reason: expect.stringMatching(/^totalAmount: must equal/) } : { ok: true, value: expect.anything() },
        );
      }),
    );
  });

  it('only takes a confirmed invoice: drafts never leave Dataverse', () => {
    expect(parse({ ...invoice(), status: 'Draft' })).toEqual({ ok: false, reason: expect.stringMatching(/^status: /) });
  });

  it('reads null optional fields as absent, and normalises the invoice id', () => {
    const id = GUID(1, 'b1b1b1b1');
    const sent = { ...invoice({ invoiceId: `{${id.toUpperCase()}}` }), description: null, correctsProposalId: null };
    const { description: _absent, ...expected } = invoice({ invoiceId: id });
    expect(parse(sent)).toEqual({ ok: true, value: expected });
  });
});
