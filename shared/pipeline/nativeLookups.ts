import { AttributeProblem } from '../contracts/dataverse/attributeValues';
import type { NativeActual } from '../contracts/dataverse/actualMessage';
import type { NativeConfirmedInvoice } from '../contracts/dataverse/invoiceMessage';
import type { DataverseLookups } from '../dataverse/lookups';

/**
 * A native message's reading with its GUID references resolved to our
 * business keys: the body our own contract would have carried, not yet
 * checked (the contract's schema checks it next, as for any message).
 */
export type ContractCandidate = Record<string, unknown>;

/** Which native attribute each contract field comes from, so a contract breach can name it. */
export const INVOICE_SOURCES: Readonly<Record<string, string>> = {
  invoiceId: 'invoiceid',
  proposalId: 'invoicenumber',
  legalEntity: 'salesorderid → company',
  contractId: 'salesorderid → ordernumber',
  customerAccount: 'customerid → accountnumber',
  currency: 'transactioncurrencyid → isocurrencycode',
  invoiceDate: 'msdyn_invoicedate',
  description: 'description',
  detailAmount: 'totallineitemamount',
  totalTax: 'totaltax',
  totalAmount: 'totalamount',
  transactionCount: "Dataverse's count of the invoice's billed sales actuals",
  version: 'versionnumber',
};

export const ACTUAL_SOURCES: Readonly<Record<string, string>> = {
  actualId: 'msdyn_actualid',
  legalEntity: 'msdyn_salescontract → company',
  invoiceId: 'msdyn_invoice',
  proposalId: 'msdyn_invoice → invoicenumber',
  projectId: 'msdyn_project → msdyn_projectnumber',
  contractId: 'msdyn_salescontract → ordernumber',
  customerAccount: 'msdyn_accountcustomer → accountnumber',
  currency: 'transactioncurrencyid → isocurrencycode',
  amount: 'msdyn_amount',
  price: 'msdyn_price',
  quantity: 'msdyn_quantity',
  documentDate: 'msdyn_documentdate',
  version: 'versionnumber',
};

/**
 * versionnumber is an int64; our contract's version is a JS number. Versions
 * up to 2^53 − 1 convert exactly. Real versionnumbers are far below that, and
 * one above it is refused by name rather than rounded: a rounded version could
 * compare equal to, or below, a different row version and decide wrongly.
 */
export function exactVersion(versionText: string): number {
  const version = BigInt(versionText);
  if (version > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AttributeProblem(
      'versionnumber',
      `is ${versionText}, above 2^53 − 1, the largest version compared exactly here; refused rather than rounded`,
    );
  }
  return Number(version);
}

export async function confirmedInvoiceCandidate(invoice: NativeConfirmedInvoice, lookups: DataverseLookups): Promise<ContractCandidate> {
  const version = exactVersion(invoice.versionText);
  const [currency, customerAccount, contract, transactionCount] = await settled([
    lookups.currencyCode('transactioncurrencyid', invoice.currencyRef),
    lookups.customerAccount('customerid', invoice.customerRef),
    lookups.contract('salesorderid', invoice.contractRef),
    lookups.billedSalesCount(invoice.invoiceId),
  ] as const);
  return {
    invoiceId: invoice.invoiceId,
    proposalId: invoice.proposalId,
    legalEntity: contract.legalEntity,
    contractId: contract.contractNumber,
    customerAccount,
    currency,
    invoiceDate: invoice.invoiceDate,
    ...(invoice.description === undefined ? {} : { description: invoice.description }),
    detailAmount: invoice.detailAmount,
    totalTax: invoice.totalTax,
    totalAmount: invoice.totalAmount,
    transactionCount,
    status: invoice.status,
    version,
  };
}

export async function actualCandidate(actual: NativeActual, lookups: DataverseLookups): Promise<ContractCandidate> {
  const version = exactVersion(actual.versionText);
  const invoiceRef = actual.invoiceRef;
  const [currency, customerAccount, contract, projectId, proposalId] = await settled([
    lookups.currencyCode('transactioncurrencyid', actual.currencyRef),
    lookups.customerAccount('msdyn_accountcustomer', actual.customerRef),
    lookups.contract('msdyn_salescontract', actual.contractRef),
    lookups.projectNumber('msdyn_project', actual.projectRef),
    invoiceRef ? lookups.invoiceNumber('msdyn_invoice', invoiceRef) : Promise.resolve(undefined),
  ] as const);
  const optional = {
    invoiceId: invoiceRef?.id,
    proposalId,
    // Task, resource, category and unit travel as their Dataverse ids: nothing here keys on them.
    taskId: actual.taskRef?.id,
    resourceId: actual.resourceRef?.id,
    transactionCategory: actual.transactionCategoryRef?.id,
    unit: actual.unitRef?.id,
    quantity: actual.quantity,
    price: actual.price,
  };
  return {
    actualId: actual.actualId,
    legalEntity: contract.legalEntity,
    transactionType: actual.transactionType,
    transactionClassification: actual.transactionClassification,
    billingType: actual.billingType,
    projectId,
    contractId: contract.contractNumber,
    customerAccount,
    amount: actual.amount,
    currency,
    documentDate: actual.documentDate,
    version,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

/**
 * Awaits every lookup. A transient failure wins over a bad reference (the
 * message must come back rather than be quarantined for half an answer), and
 * among bad references the first in attribute order is reported, so the
 * reason does not depend on which answer came first.
 */
async function settled<T extends readonly unknown[]>(lookups: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(lookups);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const transient = failures.find((e) => !(e instanceof AttributeProblem));
  if (transient !== undefined) throw transient;
  if (failures.length) throw failures[0];
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
