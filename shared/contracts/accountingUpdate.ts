import { z } from 'zod';
import { currency, identifier, isoDate, legalEntity, money, nullsAsAbsent } from './common';

const GUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

/**
 * An accounting update as read back from actuals-accounting-updates (written
 * by shared/messaging/accountingUpdates.ts). The write-back addresses the
 * msdyn_actual by its id, so actualId must be a Dataverse row id (a GUID).
 */
export const accountingUpdateSchema = nullsAsAbsent(
  z.object({
    actualId: identifier(100)
      .refine((id) => GUID.test(id), 'must be a Dataverse row id (a GUID) to be written back')
      .transform((id) => GUID.exec(id)![1]!.toLowerCase()),
    legalEntity,
    proposalId: identifier(20),
    invoiceId: identifier(100),
    billingStatus: z.literal('CustomerInvoicePosted'),
    customerInvoiceId: identifier(50),
    voucher: identifier(50),
    accountingDate: isoDate,
    accountingCurrency: currency,
    exchangeRate: z.string().regex(/^\d{1,9}(\.\d{1,10})?$/, 'must be a decimal string'),
    accountingAmount: money,
    salesTaxAmount: money,
  }),
);

export type AccountingUpdateMessage = z.infer<typeof accountingUpdateSchema>;
