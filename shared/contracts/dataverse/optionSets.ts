/**
 * Option-set (choice) codes of the native columns that our own contracts do
 * not already name. Values from the Dataverse table references for `invoice`
 * and `msdyn_actual`. The actual's transaction type, class and billing type
 * reuse the code tables in ../actual.ts through `namedBy`.
 */
import type { z } from 'zod';
import { optionSetCode, type Decoder } from './attributeValues';

export const PROJECT_INVOICE_STATUS = {
  192350000: 'Draft',
  192350001: 'InReview',
  192350002: 'Confirmed',
  192350003: 'InvoicePaid',
} as const;

export const ADJUSTMENT_STATUS = {
  192350000: 'InProcess',
  192350001: 'Adjusted',
  192350002: 'Unadjustable',
} as const;

export const BILLING_STATUS = {
  690970000: 'WorkOrderClosedPosted',
  192350000: 'UnbilledSalesCreated',
  192350001: 'CustomerInvoiceCreated',
  192350002: 'CustomerInvoicePosted',
  192350003: 'Canceled',
} as const;

export type ProjectInvoiceStatus = (typeof PROJECT_INVOICE_STATUS)[keyof typeof PROJECT_INVOICE_STATUS];
export type AdjustmentStatus = (typeof ADJUSTMENT_STATUS)[keyof typeof ADJUSTMENT_STATUS];
export type BillingStatus = (typeof BILLING_STATUS)[keyof typeof BILLING_STATUS];

/** Decodes an OptionSetValue through a code table; an unknown code is an error, never a guess. */
export function optionSet<Name extends string>(table: Readonly<Record<number, Name>>): Decoder<Name> {
  return (value) => {
    const code = optionSetCode(value);
    const name = table[code];
    if (name === undefined) throw new RangeError(`has unknown option-set value ${code}`);
    return name;
  };
}

/** Decodes an OptionSetValue through one of our contract's enum schemas, which accept the Dataverse codes. */
export function namedBy<Name>(schema: z.ZodType<Name>): Decoder<Name> {
  return (value) => {
    const code = optionSetCode(value);
    const parsed = schema.safeParse(code);
    if (!parsed.success) throw new RangeError(`has unknown option-set value ${code}`);
    return parsed.data;
  };
}
