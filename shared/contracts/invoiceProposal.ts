import { z } from 'zod';
import { isMoney, parseMoney, sumMoney } from './money';
import { MAX_LINES } from './posting';
import { currency, identifier, isoDate, legalEntity, money, nullsAsAbsent, rowId, rowVersion } from './common';

/** A confirmed pro forma invoice from Dataverse (queue project-invoice-proposals), docs/design.md#confirmed-pro-forma-invoice. */
export const confirmedInvoiceSchema = nullsAsAbsent(
  z
    .object({
      invoiceId: rowId(100),
      proposalId: identifier(20),
      legalEntity,
      contractId: identifier(100),
      customerAccount: identifier(100),
      currency,
      invoiceDate: isoDate,
      description: z.string().max(1000, 'must be at most 1000 characters').optional(),
      detailAmount: money,
      totalTax: money,
      totalAmount: money,
      // A confirmed pro forma invoice bills at least one actual; one with none could never be posted.
      transactionCount: z
        .number()
        .int('must be a whole number')
        .min(1, 'must be at least 1: a confirmed pro forma invoice bills at least one actual, and one without lines could never be posted')
        .max(MAX_LINES, `is too large: a proposal has at most ${MAX_LINES} lines, the most one posting callback can name`),
      status: z.literal('Confirmed', { message: 'must be "Confirmed"; drafts never leave Dataverse' }),
      version: rowVersion,
      correctsProposalId: identifier(20).optional(),
    })
    .superRefine((inv, ctx) => {
      const amounts = [inv.detailAmount, inv.totalTax, inv.totalAmount];
      if (amounts.every(isMoney) && sumMoney([inv.detailAmount, inv.totalTax]) !== parseMoney(inv.totalAmount)) {
        ctx.addIssue({
          code: 'custom',
          path: ['totalAmount'],
          message: `must equal detailAmount + totalTax (${inv.detailAmount} + ${inv.totalTax})`,
        });
      }
    }),
);

export type ConfirmedInvoice = z.infer<typeof confirmedInvoiceSchema>;
