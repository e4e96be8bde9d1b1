/**
 * One invoice and its billed sales actuals three ways: as the Dataverse Web API
 * stand-in holds them (Web API shape: numbers, `_x_value` lookups, dates as
 * text), as the service endpoint's messages (built with dataverseMessages.ts),
 * and as our own contract's messages, which must give the same proposal.
 */
import type { Actual } from '../../shared/contracts/actual';
import type { ConfirmedInvoice } from '../../shared/contracts/invoiceProposal';
import {
  actualColumns,
  executionContext,
  INVOICE_ID,
  invoiceColumns,
  money,
  REFS,
  TRANSACTION,
  XRM_GUID,
  type Columns,
} from './dataverseMessages';

export const COMPANY_ID = XRM_GUID(1, 'co');
export const OTHER_INVOICE_ID = XRM_GUID(2, 'inv');
export const actualId = (n: number) => XRM_GUID(n, 'act');

/** Two billed sales actuals that sum to the invoice's 1250.5 before tax. */
export const ACTUALS = [
  { id: actualId(1), quantity: 4, amount: 625.25, version: 4711002 },
  { id: actualId(2), quantity: 4, amount: 625.25, version: 4711003 },
];

const webApiActual = (id: string, invoiceId: string, amount: number, quantity = 4) => ({
  msdyn_actualid: id,
  msdyn_transactiontypecode: TRANSACTION.BilledSales,
  msdyn_transactionclassification: 192350000,
  msdyn_billingtype: 192350001,
  msdyn_billingstatus: 192350001,
  msdyn_quantity: quantity,
  msdyn_price: 156.3125,
  msdyn_amount: amount,
  msdyn_documentdate: '2026-11-20',
  _msdyn_invoice_value: invoiceId,
  _msdyn_project_value: REFS.project.Id,
  _msdyn_salescontract_value: REFS.contract.Id,
  _msdyn_accountcustomer_value: REFS.customer.Id,
  _transactioncurrencyid_value: REFS.currency.Id,
});

/** What the stand-in holds. A second invoice has four billed sales actuals, of which two sum to its detail amount. */
export function dataverseSeed() {
  return {
    transactioncurrencies: [{ transactioncurrencyid: REFS.currency.Id, isocurrencycode: 'USD' }],
    accounts: [{ accountid: REFS.customer.Id, accountnumber: 'US-001' }],
    cdm_companies: [{ cdm_companyid: COMPANY_ID, cdm_companycode: 'USMF' }],
    salesorders: [{ salesorderid: REFS.contract.Id, ordernumber: 'PC-0001', _msdyn_company_value: COMPANY_ID }],
    msdyn_projects: [{ msdyn_projectid: REFS.project.Id, msdyn_projectnumber: 'PRJ-001' }],
    invoices: [
      {
        invoiceid: INVOICE_ID,
        invoicenumber: 'INV-01001',
        description: 'November time and expenses',
        msdyn_projectinvoicestatus: 192350002,
        totallineitemamount: 1250.5,
        totaltax: 100.04,
        totalamount: 1350.54,
        msdyn_invoicedate: '2026-11-30',
        _transactioncurrencyid_value: REFS.currency.Id,
        _customerid_value: REFS.customer.Id,
        _salesorderid_value: REFS.contract.Id,
      },
      { invoiceid: OTHER_INVOICE_ID, invoicenumber: 'INV-01002' },
    ],
    msdyn_actuals: [
      ...ACTUALS.map((a) => webApiActual(a.id, INVOICE_ID, a.amount)),
      webApiActual(actualId(11), OTHER_INVOICE_ID, 625.25),
      webApiActual(actualId(12), OTHER_INVOICE_ID, 625.25),
      webApiActual(actualId(13), OTHER_INVOICE_ID, 100),
      webApiActual(actualId(14), OTHER_INVOICE_ID, -100),
      // A cost actual of the same invoice is not one it waits for.
      { ...webApiActual(actualId(15), INVOICE_ID, 500), msdyn_transactiontypecode: TRANSACTION.Cost },
    ],
  };
}

export function nativeActualCreate(id: string, overrides: Columns = {}) {
  const columns = actualColumns({ msdyn_actualid: id, msdyn_quantity: 4, msdyn_amount: money(625.25), ...overrides });
  return executionContext({ message: 'Create', entity: 'msdyn_actual', id, target: columns, postImage: columns });
}

export function nativeInvoiceCreate(overrides: Columns = {}) {
  const columns = invoiceColumns(overrides);
  return executionContext({ message: 'Create', entity: 'invoice', id: String(columns.invoiceid), target: columns, postImage: columns });
}

/** The same invoice in our own contract: what the native message must turn into. */
export function ownInvoice(overrides: Partial<ConfirmedInvoice> = {}): ConfirmedInvoice {
  return {
    invoiceId: INVOICE_ID,
    proposalId: 'INV-01001',
    legalEntity: 'usmf',
    contractId: 'PC-0001',
    customerAccount: 'US-001',
    currency: 'USD',
    invoiceDate: '2026-11-30',
    description: 'November time and expenses',
    detailAmount: '1250.5',
    totalTax: '100.04',
    totalAmount: '1350.54',
    transactionCount: 2,
    status: 'Confirmed',
    version: 4711001,
    ...overrides,
  };
}

export function ownActual(id: string, version: number, overrides: Partial<Actual> = {}): Actual {
  return {
    actualId: id,
    legalEntity: 'usmf',
    transactionType: 'BilledSales',
    transactionClassification: 'Time',
    billingType: 'Chargeable',
    invoiceId: INVOICE_ID,
    proposalId: 'INV-01001',
    projectId: 'PRJ-001',
    contractId: 'PC-0001',
    customerAccount: 'US-001',
    quantity: '4',
    price: '156.3125',
    amount: '625.25',
    currency: 'USD',
    documentDate: '2026-11-20',
    version,
    ...overrides,
  };
}
