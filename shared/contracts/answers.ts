import { z } from 'zod';

/**
 * What the HTTP API answers, as schemas: the read views and the posting
 * receipt. The TypeScript types are inferred from them and the OpenAPI
 * document (shared/http/openApi.ts) is generated from them, so a field is
 * written down once. Plain shapes only: an answer is built by the domain, never
 * parsed, so no refinement here would ever run.
 */

export const proposalStatusSchema = z.enum(['AwaitingLines', 'LinesCreated', 'Posted', 'Error']);
export type ProposalStatus = z.infer<typeof proposalStatusSchema>;

export const invoiceTypeSchema = z
  .enum(['Invoice', 'CreditNote'])
  .describe('A proposal whose total is below zero (a corrective that reverses more than it bills) posts as a credit note.');
export type InvoiceType = z.infer<typeof invoiceTypeSchema>;

export const refusedVersionSchema = z
  .object({ version: z.number().int(), reason: z.string() })
  .describe('A version that arrived after the actual was posted, and why the posted invoice keeps the one shown.');
export type RefusedVersion = z.infer<typeof refusedVersionSchema>;

/** Decimal amounts travel as strings, exactly as the contracts take them (docs/design.md, "Money is exact"). */
const amount = z.string().describe('a decimal string, e.g. "1234.50"');

export const proposalViewSchema = z
  .object({
    legalEntity: z.string(),
    proposalId: z.string(),
    invoiceId: z.string(),
    status: proposalStatusSchema,
    reason: z.string().nullable(),
    version: z.number().int(),
    currency: z.string(),
    invoiceDate: z.string(),
    customerAccount: z.string(),
    contractId: z.string(),
    description: z.string().nullable(),
    correctsProposalId: z.string().nullable(),
    invoiceType: invoiceTypeSchema,
    warnings: z.array(z.string()).describe('Accepted, but worth a look: a corrective whose original is unknown or not posted.'),
    detailAmount: amount,
    totalTax: amount,
    totalAmount: amount,
    transactionCount: z.number().int(),
    lines: z
      .array(
        z.object({
          lineNumber: z.number().int(),
          actualId: z.string(),
          transactionClassification: z.string(),
          projectId: z.string(),
          quantity: z.string().nullable(),
          price: amount.nullable(),
          amount,
        }),
      )
      .describe('Only while the status is LinesCreated or Posted.'),
    posting: z
      .object({
        customerInvoiceId: z.string(),
        voucher: z.string(),
        accountingDate: z.string(),
        accountingCurrency: z.string(),
        exchangeRate: z.string(),
      })
      .nullable(),
  })
  .describe('A project invoice proposal, docs/design.md#reading-a-proposal.');
export type ProposalView = z.infer<typeof proposalViewSchema>;

export const actualViewSchema = z
  .object({
    actualId: z.string(),
    legalEntity: z.string(),
    proposalId: z.string().nullable(),
    transactionType: z.string(),
    amount,
    version: z.number().int(),
    status: z.enum(['Pending', 'Processed', 'NotForInvoice']),
    reason: z.string().nullable(),
    billingStatus: z.enum(['CustomerInvoiceCreated', 'CustomerInvoicePosted']).nullable(),
    lineNumber: z.number().int().nullable(),
    accounting: z
      .object({
        voucher: z.string(),
        accountingDate: z.string(),
        accountingAmount: amount,
        salesTaxAmount: amount,
        exchangeRate: z.string(),
        accountingCurrency: z.string(),
        customerInvoiceId: z.string(),
      })
      .nullable(),
    refusedVersion: refusedVersionSchema.nullable(),
  })
  .describe('A project actual and where it stands, docs/design.md#reading-an-actual.');
export type ActualView = z.infer<typeof actualViewSchema>;

export const postingReceiptSchema = z
  .object({
    legalEntity: z.string(),
    proposalId: z.string(),
    status: z.literal('Posted'),
    invoiceType: invoiceTypeSchema,
    customerInvoiceId: z.string(),
    voucher: z.string(),
    accountingDate: z.string(),
    lineCount: z.number().int(),
  })
  .describe('The posting was recorded (or had been, for a repeated webhook-id).');
export type PostingReceipt = z.infer<typeof postingReceiptSchema>;
