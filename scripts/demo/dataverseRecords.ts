import { asJsonNumber } from './money';
import type { BilledActual, MonthEnd, ProjectInvoice } from './nativeMonthEnd';

/**
 * The month-end's records in Dataverse, written and read the way Project
 * Operations and a user would through the Web API (POST to create, PATCH to
 * change, lookups through @odata.bind). Against the stand-in here; the
 * requests are plain Web API, nothing stand-in specific.
 */
export const PROJECT_INVOICE_STATUS = { Draft: 192350000, InReview: 192350001, Confirmed: 192350002 } as const;
export const TRANSACTION_TYPE_BILLED_SALES = 192350006;
export const CLASSIFICATION = { Time: 192350000, Expense: 192350001 } as const;
export const BILLING_TYPE_CHARGEABLE = 192350001;
export const BILLING_STATUS_CUSTOMER_INVOICE_POSTED = 192350002;
export const ADJUSTMENT_STATUS_ADJUSTED = 192350001;

type Row = Record<string, unknown>;

export const DEMO_USER_AGENT = 'project-operations-demo';

export class DataverseWebApi {
  readonly apiUrl: string;
  constructor(dataverseUrl: string) {
    this.apiUrl = `${dataverseUrl.replace(/\/+$/, '')}/api/data/v9.2/`;
  }

  private async send(method: string, path: string, body?: Row): Promise<Row> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        // Tells the demo's own requests from the app's in the stand-in's request log.
        'user-agent': DEMO_USER_AGENT,
        'OData-Version': '4.0',
        ...(body ? { 'content-type': 'application/json', prefer: 'return=representation' } : {}),
        // A change must never create: the record is there, or the demo is wrong.
        ...(method === 'PATCH' ? { 'if-match': '*' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Row) : {};
  }

  create = (set: string, columns: Row) => this.send('POST', set, columns);
  update = (set: string, id: string, columns: Row) => this.send('PATCH', `${set}(${id})`, columns);
  row = (set: string, id: string, select: readonly string[]) => this.send('GET', `${set}(${id})?$select=${select.join(',')}`);
}

/** versionnumber of a row as the Web API answered it (an int64; this stand-in's are far below 2^53, so a number is exact). */
const versionOf = (row: Row) => Number(row.versionnumber);

/** Currencies, companies, customers, contracts and projects: what exists before month-end. */
export async function createReferenceData(api: DataverseWebApi, monthEnd: MonthEnd): Promise<number> {
  const rows: [string, Row][] = [
    ...monthEnd.currencies.map((c): [string, Row] => [
      'transactioncurrencies',
      { transactioncurrencyid: c.id, isocurrencycode: c.isoCode, currencyname: c.name },
    ]),
    ...monthEnd.companies.map((c): [string, Row] => ['cdm_companies', { cdm_companyid: c.id, cdm_companycode: c.code }]),
    ...monthEnd.customers.map((c): [string, Row] => ['accounts', { accountid: c.id, accountnumber: c.accountNumber, name: c.name }]),
    ...monthEnd.contracts.flatMap((c): [string, Row][] => [
      [
        'salesorders',
        {
          salesorderid: c.id,
          ordernumber: c.number,
          'msdyn_company@odata.bind': `/cdm_companies(${c.company.id})`,
          'customerid_account@odata.bind': `/accounts(${c.customer.id})`,
          'transactioncurrencyid@odata.bind': `/transactioncurrencies(${c.company.currency.id})`,
        },
      ],
      ['msdyn_projects', { msdyn_projectid: c.projectId, msdyn_projectnumber: c.projectNumber }],
    ]),
  ];
  for (const [set, columns] of rows) await api.create(set, columns);
  return rows.length;
}

/** A pro forma invoice as Project Operations creates it: Draft, amounts in the invoice currency. */
export async function createInvoice(api: DataverseWebApi, inv: ProjectInvoice): Promise<void> {
  const c = inv.contract;
  await api.create('invoices', {
    invoiceid: inv.id,
    invoicenumber: inv.number,
    name: inv.description,
    description: inv.description,
    msdyn_projectinvoicestatus: PROJECT_INVOICE_STATUS.Draft,
    msdyn_hascorrections: inv.corrects !== undefined,
    totallineitemamount: asJsonNumber(inv.detailAmount),
    totaltax: asJsonNumber(inv.totalTax),
    totalamount: asJsonNumber(inv.totalAmount),
    msdyn_invoicedate: inv.invoiceDate,
    'transactioncurrencyid@odata.bind': `/transactioncurrencies(${c.company.currency.id})`,
    'customerid_account@odata.bind': `/accounts(${c.customer.id})`,
    'salesorderid@odata.bind': `/salesorders(${c.id})`,
  });
}

/** A billed sales actual of the invoice; returns its versionnumber. */
export async function createBilledActual(api: DataverseWebApi, inv: ProjectInvoice, a: BilledActual): Promise<number> {
  const c = inv.contract;
  const row = await api.create('msdyn_actuals', {
    msdyn_actualid: a.id,
    msdyn_description: a.description,
    msdyn_transactiontypecode: TRANSACTION_TYPE_BILLED_SALES,
    msdyn_transactionclassification: CLASSIFICATION[a.classification],
    msdyn_billingtype: BILLING_TYPE_CHARGEABLE,
    msdyn_quantity: asJsonNumber(a.quantity),
    msdyn_price: asJsonNumber(a.price),
    msdyn_amount: asJsonNumber(a.amount),
    msdyn_documentdate: a.documentDate,
    'msdyn_Invoice@odata.bind': `/invoices(${inv.id})`,
    'msdyn_Project@odata.bind': `/msdyn_projects(${c.projectId})`,
    'msdyn_SalesContract@odata.bind': `/salesorders(${c.id})`,
    'msdyn_AccountCustomer@odata.bind': `/accounts(${c.customer.id})`,
    'transactioncurrencyid@odata.bind': `/transactioncurrencies(${c.company.currency.id})`,
  });
  return versionOf(row);
}

/** A user moves the invoice on (In Review, then Confirmed); returns the row's new versionnumber. */
export async function setInvoiceStatus(api: DataverseWebApi, inv: ProjectInvoice, status: number): Promise<number> {
  return versionOf(await api.update('invoices', inv.id, { msdyn_projectinvoicestatus: status }));
}

/** Project Operations marks a corrected actual Adjusted; returns its new versionnumber. */
export async function markAdjusted(api: DataverseWebApi, a: BilledActual): Promise<number> {
  return versionOf(await api.update('msdyn_actuals', a.id, { msdyn_adjustmentstatus: ADJUSTMENT_STATUS_ADJUSTED }));
}

export type WrittenBack = {
  voucher: string | null;
  accountingDate: string | null;
  externalReferenceDate: string | null;
  adjustment: number | null;
};

/** What the write-back left on the actual's row. */
export async function writtenBack(api: DataverseWebApi, actualId: string): Promise<WrittenBack> {
  const row = await api.row('msdyn_actuals', actualId, [
    'msdyn_externalreferenceid',
    'msdyn_accountingdate',
    'msdyn_externalreferencedate',
    'msdyn_adjustmentstatus',
  ]);
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    voucher: text(row.msdyn_externalreferenceid),
    accountingDate: text(row.msdyn_accountingdate),
    externalReferenceDate: text(row.msdyn_externalreferencedate),
    adjustment: typeof row.msdyn_adjustmentstatus === 'number' ? row.msdyn_adjustmentstatus : null,
  };
}
