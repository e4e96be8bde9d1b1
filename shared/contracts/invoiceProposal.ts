import { z } from 'zod';
import { isMoney, parseMoney, sumMoney } from '../domain/money';
import { currency, identifier, isoDate, legalEntity, money, rowVersion } from './common';

/** A confirmed pro forma invoice from Dataverse (queue project-invoice-proposals), docs/design.md#confirmed-pro-forma-invoice. */
export const confirmedInvoiceSchema = z
  .object({
    invoiceId: identifier(100),
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
    transactionCount: z.number().int('must be a whole number').min(0, 'must be 0 or more').max(100_000, 'is too large'),
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
  });

export type ConfirmedInvoice = z.infer<typeof confirmedInvoiceSchema>;
