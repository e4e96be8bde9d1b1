import { randomUUID } from 'node:crypto';
import { formatMoney, sumMoney } from '../../shared/contracts/money';
import { timesExact, timesToCents } from './money';

/**
 * The month-end of `npm run demo -- --dataverse`, in business terms: what a
 * Project Operations environment holds (companies, customers, contracts,
 * projects, pro forma invoices and their billed sales actuals) and the
 * correction made after posting. Every record gets a fresh GUID, so runs can
 * share one stand-in and one host.
 */
export interface Company {
  readonly id: string;
  /** cdm_companycode, upper case as dual-write keeps it; the legal entity is its lower-case form. */
  readonly code: string;
  readonly currency: Currency;
  readonly taxRate: string;
}
export interface Currency {
  readonly id: string;
  readonly isoCode: string;
  readonly name: string;
}
export interface Customer {
  readonly id: string;
  readonly accountNumber: string;
  readonly name: string;
}
export interface Contract {
  readonly id: string;
  readonly number: string;
  readonly company: Company;
  readonly customer: Customer;
  readonly projectId: string;
  readonly projectNumber: string;
}

export interface BilledActual {
  readonly id: string;
  readonly description: string;
  readonly classification: 'Time' | 'Expense';
  readonly quantity: string;
  readonly price: string;
  readonly amount: string;
  readonly tax: string;
  readonly documentDate: string;
}

export interface ProjectInvoice {
  readonly id: string;
  /** invoicenumber: the proposal id. */
  readonly number: string;
  readonly description: string;
  readonly contract: Contract;
  readonly invoiceDate: string;
  readonly actuals: readonly BilledActual[];
  readonly detailAmount: string;
  readonly totalTax: string;
  readonly totalAmount: string;
  /** What Finance will post it as. */
  readonly voucher: string;
  readonly customerInvoiceId: string;
  /** A corrective invoice: msdyn_hascorrections, and the invoice it corrects (not a column of invoice; see README). */
  readonly corrects?: ProjectInvoice;
}

export interface Correction {
  readonly invoice: ProjectInvoice;
  /** The posted actual Project Operations marks Adjusted. */
  readonly adjusted: BilledActual;
  readonly reversal: BilledActual;
  readonly rebilled: BilledActual;
}

export interface MonthEnd {
  readonly runId: string;
  readonly currencies: readonly Currency[];
  readonly companies: readonly Company[];
  readonly customers: readonly Customer[];
  readonly contracts: readonly Contract[];
  readonly invoices: readonly ProjectInvoice[];
  readonly correction: Correction;
}

const id = () => randomUUID();

function actual(company: Company, description: string, line: [BilledActual['classification'], string, string], documentDate: string) {
  const [classification, quantity, price] = line;
  const amount = timesExact(quantity, price);
  return { id: id(), description, classification, quantity, price, amount, tax: timesToCents(amount, company.taxRate), documentDate };
}

function invoice(
  runId: string,
  n: number,
  contract: Contract,
  invoiceDate: string,
  description: string,
  actuals: BilledActual[],
  corrects?: ProjectInvoice,
): ProjectInvoice {
  const nn = String(n).padStart(2, '0');
  const detailAmount = formatMoney(sumMoney(actuals.map((a) => a.amount)));
  const totalTax = formatMoney(sumMoney(actuals.map((a) => a.tax)));
  return {
    id: id(),
    number: `INV-${runId}-${nn}`,
    description,
    contract,
    invoiceDate,
    actuals,
    detailAmount,
    totalTax,
    totalAmount: formatMoney(sumMoney([detailAmount, totalTax])),
    voucher: `VOU-${runId}-${nn}`,
    customerInvoiceId: `CIV-${runId}-${nn}`,
    ...(corrects ? { corrects } : {}),
  };
}

export function buildMonthEnd(runId: string): MonthEnd {
  const usd: Currency = { id: id(), isoCode: 'USD', name: 'US Dollar' };
  const eur: Currency = { id: id(), isoCode: 'EUR', name: 'Euro' };
  const usmf: Company = { id: id(), code: 'USMF', currency: usd, taxRate: '0.08' };
  const demf: Company = { id: id(), code: 'DEMF', currency: eur, taxRate: '0.19' };
  const contoso: Customer = { id: id(), accountNumber: 'US-001', name: 'Contoso Ltd' };
  const fabrikam: Customer = { id: id(), accountNumber: 'DE-001', name: 'Fabrikam GmbH' };
  const contract = (n: number, company: Company, customer: Customer): Contract => ({
    id: id(),
    number: `PC-${runId}-${n}`,
    company,
    customer,
    projectId: id(),
    projectNumber: `PRJ-${runId}-${n}`,
  });
  const erp = contract(1, usmf, contoso);
  const rollout = contract(2, demf, fabrikam);

  const consulting = actual(usmf, 'Solution architect, week 47', ['Time', '8', '150.00'], '2026-11-20');
  const workshop = actual(usmf, 'Workshop, week 48', ['Time', '4', '150.00'], '2026-11-26');
  const invoices = [
    invoice(runId, 1, erp, '2026-11-30', 'ERP implementation, November', [
      consulting,
      workshop,
      actual(usmf, 'Travel to Redmond', ['Expense', '1', '245.50'], '2026-11-24'),
    ]),
    invoice(runId, 2, rollout, '2026-11-30', 'Rollout Germany, November', [
      actual(demf, 'Consultant, week 47', ['Time', '6', '120.00'], '2026-11-19'),
      actual(demf, 'Consultant, week 48', ['Time', '2.5', '120.00'], '2026-11-27'),
    ]),
    invoice(runId, 3, erp, '2026-11-30', 'ERP support, November', [
      actual(usmf, 'Support hours, November', ['Time', '10', '95.50'], '2026-11-28'),
    ]),
  ];

  // The workshop was billed at the architect's rate: reverse it, bill it again at 100.00. It reverses more than it bills: a credit note.
  const reversal = actual(usmf, 'Workshop, week 48 (reversal)', ['Time', '-4', '150.00'], '2026-11-26');
  const rebilled = actual(usmf, 'Workshop, week 48 (corrected rate)', ['Time', '4', '100.00'], '2026-11-26');
  const corrective = invoice(runId, 4, erp, '2026-12-05', 'Correction of the workshop rate', [reversal, rebilled], invoices[0]);

  return {
    runId,
    currencies: [usd, eur],
    companies: [usmf, demf],
    customers: [contoso, fabrikam],
    contracts: [erp, rollout],
    invoices,
    correction: { invoice: corrective, adjusted: workshop, reversal, rebilled },
  };
}

/** The legal entity our contracts carry: the company code in lower case. */
export const legalEntityOf = (inv: ProjectInvoice) => inv.contract.company.code.toLowerCase();
