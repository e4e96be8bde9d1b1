/**
 * A native `invoice` Create/Update → the confirmed pro forma invoice it
 * announces, with its lookups still as GUID references for the caller to
 * resolve through the Web API (currency code, customer account number,
 * contract number, legal entity, expected number of billed sales actuals).
 *
 * Column choices (invoice table reference): proposal id = invoicenumber,
 * detail amount = totallineitemamount (pre-tax line total), totaltax,
 * totalamount, invoice date = msdyn_invoicedate (date only), contract =
 * salesorderid (the project contract), version = versionnumber (int64, kept
 * as digits). Only msdyn_projectinvoicestatus = Confirmed is a confirmation;
 * Dataverse sends the other statuses as a matter of course, so they are
 * `ignored` with the reason rather than treated as bad input.
 */
import { dateOnly, entityReference, guid, money, text, type EntityRef } from './attributeValues';
import { optionalColumn, recordVersion, requiredColumn, type RecordView } from './columnReader';
import { optionSet, PROJECT_INVOICE_STATUS } from './optionSets';
import { attempt, openRecordMessage, type MessageOptions, type NotRead } from './recordMessage';

export type NativeConfirmedInvoice = {
  readonly proposalId: string;
  readonly invoiceId: string;
  readonly detailAmount: string;
  readonly totalTax: string;
  readonly totalAmount: string;
  readonly invoiceDate: string;
  /** versionnumber as decimal digits; compare with BigInt, never as a float. */
  readonly versionText: string;
  readonly currencyRef: EntityRef;
  readonly customerRef: EntityRef;
  readonly contractRef: EntityRef;
  readonly status: 'Confirmed';
  readonly description?: string;
};

export type InvoiceMessageReading =
  | { readonly kind: 'confirmed'; readonly invoice: NativeConfirmedInvoice }
  | { readonly kind: 'ignored'; readonly invoiceId: string; readonly reason: string }
  | NotRead;

export function readInvoiceMessage(value: unknown, options: MessageOptions = {}): InvoiceMessageReading {
  const opened = openRecordMessage(value, 'invoice', options);
  if (opened.kind !== 'record') return opened;
  return attempt(() => confirmation(opened.view));
}

function confirmation(view: RecordView): InvoiceMessageReading {
  const status = requiredColumn(view, 'msdyn_projectinvoicestatus', optionSet(PROJECT_INVOICE_STATUS));
  if (status !== 'Confirmed') {
    return { kind: 'ignored', invoiceId: view.id, reason: `msdyn_projectinvoicestatus is ${status}, not Confirmed: nothing to post` };
  }
  const description = optionalColumn(view, 'description', text);
  return {
    kind: 'confirmed',
    invoice: {
      proposalId: requiredColumn(view, 'invoicenumber', text),
      invoiceId: view.attributes.has('invoiceid') ? requiredColumn(view, 'invoiceid', guid) : view.id,
      detailAmount: requiredColumn(view, 'totallineitemamount', money),
      totalTax: requiredColumn(view, 'totaltax', money),
      totalAmount: requiredColumn(view, 'totalamount', money),
      invoiceDate: requiredColumn(view, 'msdyn_invoicedate', dateOnly),
      versionText: recordVersion(view),
      currencyRef: requiredColumn(view, 'transactioncurrencyid', entityReference('transactioncurrency')),
      customerRef: requiredColumn(view, 'customerid', entityReference('account', 'contact')),
      contractRef: requiredColumn(view, 'salesorderid', entityReference('salesorder')),
      status,
      ...(description ? { description } : {}),
    },
  };
}
