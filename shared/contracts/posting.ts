import { z } from 'zod';
import { currency, identifier, isoDate, money, nullsAsAbsent, rowId } from './common';

/**
 * The most lines one proposal can have: five times what dual-write's real-time
 * sync takes per invoice (docs/capacity.md, "Very large invoices"). A posting
 * callback names every line, and 50,000 of the longest lines still fit its body
 * limit (shared/http/request.ts). The invoice contract refuses a larger
 * transactionCount, so no proposal can build lines it could never post.
 */
export const MAX_LINES = 50_000;

/** Posting callback from Finance, docs/design.md#posting-callback. */
export const postingLineSchema = z.object({
  actualId: rowId(100),
  accountingAmount: money,
  salesTaxAmount: money,
});

export const postingSchema = nullsAsAbsent(
  z
    .object({
      customerInvoiceId: identifier(50),
      voucher: identifier(50),
      accountingDate: isoDate,
      accountingCurrency: currency,
      exchangeRate: z
        .string()
        .regex(/^(0|[1-9]\d{0,8})(\.\d{1,10})?$/, 'must be a positive decimal string, e.g. "1.0825"')
        .refine((r) => /[1-9]/.test(r), 'must be greater than 0'),
      lines: z
        .array(postingLineSchema)
        .min(1, "must name the proposal's lines")
        .max(MAX_LINES, `has too many lines (at most ${MAX_LINES})`),
    })
    .superRefine((p, ctx) => {
      const seen = new Set<string>();
      p.lines.forEach((line, i) => {
        if (seen.has(line.actualId)) {
          ctx.addIssue({ code: 'custom', path: ['lines', i, 'actualId'], message: `names actual ${line.actualId} twice` });
        }
        seen.add(line.actualId);
      });
    }),
);

export type Posting = z.infer<typeof postingSchema>;
export type PostingLine = z.infer<typeof postingLineSchema>;
