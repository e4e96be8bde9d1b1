import {
  executionContext,
  messageText,
  money,
  optionSetValue,
  reference,
  wcfDate,
  type Columns,
} from '../../test/support/dataverseMessages';
import { ADJUSTMENT_STATUS_ADJUSTED, BILLING_TYPE_CHARGEABLE, CLASSIFICATION, TRANSACTION_TYPE_BILLED_SALES } from './dataverseRecords';
import { asJsonNumber } from './money';
import type { BilledActual, ProjectInvoice } from './nativeMonthEnd';

/**
 * The messages the service endpoint would post for the month-end's records:
 * RemoteExecutionContext in the JSON message format, with the post-image of
 * the row as the steps in README ("Connect a real Dataverse") register it.
 * Money goes out as the JSON number Dataverse writes (exact: asJsonNumber).
 */
export type NativeMessage = { functionName: 'syncInvoiceProposal' | 'syncActuals'; text: string; what: string };

const dateOnly = (isoDate: string) => wcfDate(`${isoDate}T00:00:00Z`, '+0000');
const now = () => wcfDate(Date.now());

function invoiceImage(inv: ProjectInvoice, status: number, version: number): Columns {
  const c = inv.contract;
  return {
    invoiceid: inv.id,
    invoicenumber: inv.number,
    description: inv.description,
    msdyn_projectinvoicestatus: optionSetValue(status),
    msdyn_hascorrections: inv.corrects !== undefined,
    totallineitemamount: money(asJsonNumber(inv.detailAmount)),
    totaltax: money(asJsonNumber(inv.totalTax)),
    totalamount: money(asJsonNumber(inv.totalAmount)),
    msdyn_invoicedate: dateOnly(inv.invoiceDate),
    transactioncurrencyid: reference('transactioncurrency', c.company.currency.id, c.company.currency.name),
    customerid: reference('account', c.customer.id, c.customer.name),
    salesorderid: reference('salesorder', c.id, c.number),
    versionnumber: version,
  };
}

function actualImage(inv: ProjectInvoice, a: BilledActual, version: number): Columns {
  const c = inv.contract;
  return {
    msdyn_actualid: a.id,
    msdyn_description: a.description,
    msdyn_transactiontypecode: optionSetValue(TRANSACTION_TYPE_BILLED_SALES),
    msdyn_transactionclassification: optionSetValue(CLASSIFICATION[a.classification]),
    msdyn_billingtype: optionSetValue(BILLING_TYPE_CHARGEABLE),
    msdyn_quantity: asJsonNumber(a.quantity),
    msdyn_price: money(asJsonNumber(a.price)),
    msdyn_amount: money(asJsonNumber(a.amount)),
    msdyn_documentdate: dateOnly(a.documentDate),
    msdyn_invoice: reference('invoice', inv.id, inv.number),
    msdyn_project: reference('msdyn_project', c.projectId, c.projectNumber),
    msdyn_salescontract: reference('salesorder', c.id, c.number),
    msdyn_accountcustomer: reference('account', c.customer.id, c.customer.name),
    transactioncurrencyid: reference('transactioncurrency', c.company.currency.id, c.company.currency.name),
    versionnumber: version,
  };
}

/** The invoice's Update step: only the status in Target, the whole row in the post-image. */
export function invoiceStatusChanged(inv: ProjectInvoice, status: number, version: number, statusName: string): NativeMessage {
  const context = executionContext({
    message: 'Update',
    entity: 'invoice',
    id: inv.id,
    target: { invoiceid: inv.id, msdyn_projectinvoicestatus: optionSetValue(status), modifiedon: now() },
    postImage: invoiceImage(inv, status, version),
  });
  return { functionName: 'syncInvoiceProposal', text: messageText(context), what: `invoice ${inv.number} ${statusName}` };
}

/** The actual's Create step: Target and post-image carry every column. */
export function actualCreated(inv: ProjectInvoice, a: BilledActual, version: number): NativeMessage {
  const columns = actualImage(inv, a, version);
  const context = executionContext({ message: 'Create', entity: 'msdyn_actual', id: a.id, target: columns, postImage: columns });
  return { functionName: 'syncActuals', text: messageText(context), what: `actual ${a.id} created` };
}

/** The actual's Update step after Project Operations marked it Adjusted. */
export function actualAdjusted(inv: ProjectInvoice, a: BilledActual, version: number): NativeMessage {
  const adjusted = { msdyn_adjustmentstatus: optionSetValue(ADJUSTMENT_STATUS_ADJUSTED) };
  const context = executionContext({
    message: 'Update',
    entity: 'msdyn_actual',
    id: a.id,
    target: { msdyn_actualid: a.id, ...adjusted, modifiedon: now() },
    postImage: { ...actualImage(inv, a, version), ...adjusted },
  });
  return { functionName: 'syncActuals', text: messageText(context), what: `actual ${a.id} marked Adjusted` };
}
