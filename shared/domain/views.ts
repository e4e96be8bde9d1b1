import type { Actual, BilledSalesActual } from '../contracts/actual';
import type { ProposalLine } from './importPlan';
import type { ProposalHeader, ProposalStatus } from './proposal';

/** GET /api/invoice-proposals/{legalEntity}/{proposalId}, DESIGN.md §4. */
export interface ProposalView {
  legalEntity: string;
  proposalId: string;
  invoiceId: string;
  status: ProposalStatus;
  reason: string | null;
  version: number;
  currency: string;
  invoiceDate: string;
  customerAccount: string;
  contractId: string;
  description: string | null;
  correctsProposalId: string | null;
  detailAmount: string;
  totalTax: string;
  totalAmount: string;
  transactionCount: number;
  lines: {
    lineNumber: number;
    actualId: string;
    transactionClassification: string;
    projectId: string;
    quantity: string | null;
    price: string | null;
    amount: string;
  }[];
  posting: Omit<NonNullable<ProposalHeader['posting']>, 'postingId'> | null;
}

/** Lines show only while they are the proposal's lines (created or posted). */
export function showsLines(h: ProposalHeader): boolean {
  return h.status === 'LinesCreated' || h.status === 'Posted';
}

export function proposalView(h: ProposalHeader, lines: readonly ProposalLine[]): ProposalView {
  const inv = h.invoice;
  const posting = h.posting && { customerInvoiceId: h.posting.customerInvoiceId, voucher: h.posting.voucher, accountingDate: h.posting.accountingDate, accountingCurrency: h.posting.accountingCurrency, exchangeRate: h.posting.exchangeRate };
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

/** GET /api/actuals/{legalEntity}/{actualId}, DESIGN.md §4. */
export interface ActualView {
  actualId: string;
  legalEntity: string;
  proposalId: string | null;
  transactionType: string;
  amount: string;
  version: number;
  status: 'Pending' | 'Processed' | 'NotForInvoice';
  reason: string | null;
  billingStatus: 'CustomerInvoiceCreated' | 'CustomerInvoicePosted' | null;
  lineNumber: number | null;
  accounting: {
    voucher: string;
    accountingDate: string;
    accountingAmount: string;
    salesTaxAmount: string;
    exchangeRate: string;
    accountingCurrency: string;
    customerInvoiceId: string;
  } | null;
}

export interface ActualFacts {
  actual: Actual;
  header: ProposalHeader | undefined;
  /** The actual's line in the header's active build, if it has one. */
  line: ProposalLine | undefined;
  /** Its accounting amounts from the posting, if posted. */
  posted: { accountingAmount: string; salesTaxAmount: string } | undefined;
}

export function actualView({ actual, header, line, posted }: ActualFacts): ActualView {
  const base = { actualId: actual.actualId, legalEntity: actual.legalEntity, transactionType: actual.transactionType, amount: actual.amount, version: actual.version };
  if (actual.transactionType !== 'BilledSales') {
    return { ...base, proposalId: null, status: 'NotForInvoice', reason: `${actual.transactionType} actuals do not become proposal lines`, billingStatus: null, lineNumber: null, accounting: null };
  }
  const billed = actual as BilledSalesActual;
  const pending = (reason: string): ActualView => ({ ...base, proposalId: billed.proposalId, status: 'Pending', reason, billingStatus: null, lineNumber: null, accounting: null });
  if (!header) return pending('waiting for the invoice header (confirmed pro forma invoice) to arrive');
  const onLine = line && showsLines(header) && line.actual.version === actual.version;
  if (!onLine) {
    if (header.status === 'Posted') return pending(`proposal ${billed.proposalId} was posted without this version of the actual`);
    if (header.status === 'LinesCreated') return pending('staged; waiting for the next Import from staging run');
    return pending(header.reason ?? 'waiting for the next Import from staging run');
  }
  const p = header.posting;
  return {
    ...base,
    proposalId: billed.proposalId,
    status: 'Processed',
    reason: null,
    billingStatus: header.status === 'Posted' ? 'CustomerInvoicePosted' : 'CustomerInvoiceCreated',
    lineNumber: line.lineNumber,
    accounting:
      header.status === 'Posted' && p && posted
        ? { voucher: p.voucher, accountingDate: p.accountingDate, accountingAmount: posted.accountingAmount, salesTaxAmount: posted.salesTaxAmount, exchangeRate: p.exchangeRate, accountingCurrency: p.accountingCurrency, customerInvoiceId: p.customerInvoiceId }
        : null,
  };
}
