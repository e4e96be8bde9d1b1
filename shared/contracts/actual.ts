import { z } from 'zod';
import { currency, identifier, isoDate, legalEntity, money, nullsAsAbsent, rowId, rowVersion } from './common';

/**
 * Enum with Dataverse option-set codes accepted as aliases (number or numeric
 * string), docs/design.md#actual. The parsed value is always the name.
 */
function optionSet<const Names extends readonly [string, ...string[]]>(names: Names, codes: Record<number, Names[number]>) {
  return z.preprocess(
    (v) => (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? (codes[Number(v)] ?? v) : v),
    z.enum(names, { message: `must be one of ${names.join(', ')} or its Dataverse option-set code` }),
  );
}

export const TRANSACTION_TYPES = [
  'Cost',
  'UnbilledSales',
  'BilledSales',
  'ProjectContract',
  'ResourcingUnitCost',
  'InterOrganizationalSales',
] as const;

export const transactionType = optionSet(TRANSACTION_TYPES, {
  192350000: 'Cost',
  192350004: 'ProjectContract',
  192350005: 'UnbilledSales',
  192350006: 'BilledSales',
  192350007: 'ResourcingUnitCost',
  192350008: 'InterOrganizationalSales',
});

export const transactionClassification = optionSet(
  ['Time', 'Expense', 'Material', 'Milestone', 'Fee', 'Commission', 'Additional', 'Tax'] as const,
  {
    192350000: 'Time',
    192350001: 'Expense',
    192350002: 'Material',
    192350003: 'Milestone',
    192350004: 'Fee',
    690970000: 'Commission',
    690970001: 'Additional',
    690970002: 'Tax',
  },
);

export const billingType = optionSet(['Chargeable', 'NonChargeable', 'Complimentary', 'NotAvailable'] as const, {
  192350000: 'NonChargeable',
  192350001: 'Chargeable',
  192350002: 'Complimentary',
  192350003: 'NotAvailable',
});

const optionalId = identifier(100).optional();

/**
 * An actual from Dataverse msdyn_actual (queue project-actuals), docs/design.md#actual.
 * Its identity is `actualId` alone (normalised, see rowId): the legal entity and
 * proposal are fields of a version, and may change from one version to the next.
 */
export const actualSchema = nullsAsAbsent(
  z
    .object({
      actualId: rowId(100),
      legalEntity,
      transactionType,
      transactionClassification,
      billingType,
      invoiceId: rowId(100).optional(),
      proposalId: identifier(20).optional(),
      projectId: identifier(100),
      contractId: identifier(100),
      customerAccount: identifier(100),
      taskId: optionalId,
      contractLineId: optionalId,
      resourceId: optionalId,
      transactionCategory: optionalId,
      unit: optionalId,
      quantity: money.optional(),
      price: money.optional(),
      amount: money,
      currency,
      documentDate: isoDate,
      version: rowVersion,
    })
    .superRefine((a, ctx) => {
      if (a.transactionType !== 'BilledSales') return;
      for (const field of ['invoiceId', 'proposalId'] as const) {
        if (a[field] === undefined) {
          ctx.addIssue({ code: 'custom', path: [field], message: 'is required when transactionType is BilledSales' });
        }
      }
    }),
);

export type Actual = z.infer<typeof actualSchema>;
export type BilledSalesActual = Actual & { transactionType: 'BilledSales'; invoiceId: string; proposalId: string };

export function isBilledSales(a: Actual): a is BilledSalesActual {
  return a.transactionType === 'BilledSales';
}
