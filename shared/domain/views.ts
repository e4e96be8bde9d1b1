import type { Actual, BilledSalesActual } from '../contracts/actual';
import type { ActualView, InvoiceType, ProposalView, RefusedVersion } from '../contracts/answers';
import { parseMoney } from '../contracts/money';
import type { ProposalLine } from './importPlan';
import type { ProposalHeader } from './proposal';

/** The answers' shapes are schemas in contracts/answers.ts (the OpenAPI document is generated from them). */
export type { ActualView, InvoiceType, ProposalView };

/** Lines show only while they are the proposal's lines (created or posted). */
export function showsLines(h: ProposalHeader): boolean {
  return h.status === 'LinesCreated' || h.status === 'Posted';
}

export function invoiceTypeOf(h: ProposalHeader): InvoiceType {
  return parseMoney(h.invoice.totalAmount) < 0n ? 'CreditNote' : 'Invoice';
}

/**
 * A corrective invoice is accepted whatever its original's state (Dataverse
 * already confirmed it), but flagged when the original is not a posted
 * proposal here: `original` is that proposal's header, read when the view is.
 */
export function correctionWarnings(h: ProposalHeader, original: ProposalHeader | undefined): string[] {
  const id = h.invoice.correctsProposalId;
  if (!id) return [];
  if (!original) return [`corrects proposal ${id}, which this integration has not received; check the original in Finance`];
  if (original.status !== 'Posted')
    return [`corrects proposal ${id}, which is not posted (status ${original.status}); the correction may be premature`];
  return [];
}

export function proposalView(h: ProposalHeader, lines: readonly ProposalLine[], warnings: string[] = []): ProposalView {
  const inv = h.invoice;
  const posting = h.posting && {
    customerInvoiceId: h.posting.customerInvoiceId,
    voucher: h.posting.voucher,
    accountingDate: h.posting.accountingDate,
    accountingCurrency: h.posting.accountingCurrency,
    exchangeRate: h.posting.exchangeRate,
  };
  return {
    legalEntity: inv.legalEntity,
    proposalId: inv.proposalId,
    invoiceId: inv.invoiceId,
    status: h.status,
    reason: h.reason,
    version: inv.version,
    currency: inv.currency,
    invoiceDate: inv.invoiceDate,
    customerAccount: inv.customerAccount,
    contractId: inv.contractId,
    description: inv.description ?? null,
    correctsProposalId: inv.correctsProposalId ?? null,
    invoiceType: invoiceTypeOf(h),
    warnings,
    detailAmount: inv.detailAmount,
    totalTax: inv.totalTax,
    totalAmount: inv.totalAmount,
    transactionCount: inv.transactionCount,
    lines: showsLines(h)
      ? [...lines]
          .sort((a, b) => a.lineNumber - b.lineNumber)
          .map(({ lineNumber, actual: a }) => ({
            lineNumber,
            actualId: a.actualId,
            transactionClassification: a.transactionClassification,
            projectId: a.projectId,
            quantity: a.quantity ?? null,
            price: a.price ?? null,
            amount: a.amount,
          }))
      : [],
    posting: posting || null,
  };
}

export interface ActualFacts {
  /** The version the register accepted. */
  actual: Actual;
  /** A later version the register refused (the actual is on a posted invoice). */
  refused?: RefusedVersion | null;
  header: ProposalHeader | undefined;
  /** The actual's line in the header's active build, if it has one. */
  line: ProposalLine | undefined;
  /** Its accounting amounts from the posting, if posted. */
  posted: { accountingAmount: string; salesTaxAmount: string } | undefined;
}

export function actualView({ actual, refused = null, header, line, posted }: ActualFacts): ActualView {
  const base = {
    actualId: actual.actualId,
    legalEntity: actual.legalEntity,
    transactionType: actual.transactionType,
    amount: actual.amount,
    version: actual.version,
    refusedVersion: refused,
  };
  if (actual.transactionType !== 'BilledSales') {
    return {
      ...base,
      proposalId: null,
      status: 'NotForInvoice',
      reason: `${actual.transactionType} actuals do not become proposal lines`,
      billingStatus: null,
      lineNumber: null,
      accounting: null,
    };
  }
  const billed = actual as BilledSalesActual;
  const pending = (reason: string): ActualView => ({
    ...base,
    proposalId: billed.proposalId,
    status: 'Pending',
    reason,
    billingStatus: null,
    lineNumber: null,
    accounting: null,
  });
  if (!header) return pending('waiting for the invoice header (confirmed pro forma invoice) to arrive');
  // A posted invoice keeps the version it posted: that is what the actual is, whatever arrived after.
  const postedVersion = header.status === 'Posted' && line ? line.actual : undefined;
  const onLine = line && showsLines(header) && (line.actual.version === actual.version || postedVersion);
  if (!onLine) {
    if (header.status === 'Posted') {
      return pending(
        `proposal ${billed.proposalId} was posted without this actual: it arrived too late to be on it (the quarantine keeps it, with the reason)`,
      );
    }
    if (header.status === 'LinesCreated') return pending('staged; waiting for the next Import from staging run');
    return pending(header.reason ?? 'waiting for the next Import from staging run');
  }
  const later =
    refused ??
    (postedVersion && actual.version > postedVersion.version
      ? {
          version: actual.version,
          reason: `arrived after proposal ${billed.proposalId} was posted; the posted invoice keeps version ${postedVersion.version}`,
        }
      : null);
  const shown = postedVersion ?? billed;
  const p = header.posting;
  return {
    ...base,
    amount: shown.amount,
    version: shown.version,
    refusedVersion: later,
    proposalId: billed.proposalId,
    status: 'Processed',
    reason: null,
    billingStatus: header.status === 'Posted' ? 'CustomerInvoicePosted' : 'CustomerInvoiceCreated',
    lineNumber: line.lineNumber,
    accounting:
      header.status === 'Posted' && p && posted
        ? {
            voucher: p.voucher,
            accountingDate: p.accountingDate,
            accountingAmount: posted.accountingAmount,
            salesTaxAmount: posted.salesTaxAmount,
            exchangeRate: p.exchangeRate,
            accountingCurrency: p.accountingCurrency,
            customerInvoiceId: p.customerInvoiceId,
          }
        : null,
  };
}
