/**
 * A native `msdyn_actual` Create/Update → the actual it describes, with its
 * lookups still as GUID references (project, contract, customer, invoice,
 * currency…) for the caller to resolve through the Web API.
 *
 * Option sets go through our contract's own code tables (../actual.ts), so a
 * code Dataverse adds later is an error naming the column, never a guess.
 * An Update that only marks the actual Adjusted (msdyn_adjustmentstatus, set
 * by Project Operations after a correction) is reported as `adjustment`: it
 * carries no new accounting and must not disturb the proposal the actual was
 * posted on.
 */
import { billingType, transactionClassification, transactionType, type Actual } from '../actual';
import { dateOnly, decimal, entityReference, guid, money, type EntityRef } from './attributeValues';
import { optionalColumn, recordVersion, requiredColumn, type RecordView } from './columnReader';
import { ADJUSTMENT_STATUS, BILLING_STATUS, namedBy, optionSet, type AdjustmentStatus, type BillingStatus } from './optionSets';
import { attempt, openRecordMessage, type MessageOptions, type NotRead } from './recordMessage';

export type NativeActual = {
  readonly actualId: string;
  readonly transactionType: Actual['transactionType'];
  readonly transactionClassification: Actual['transactionClassification'];
  readonly billingType: Actual['billingType'];
  readonly amount: string;
  readonly price?: string;
  readonly quantity?: string;
  readonly documentDate: string;
  /** versionnumber as decimal digits; compare with BigInt, never as a float. */
  readonly versionText: string;
  readonly currencyRef: EntityRef;
  readonly projectRef: EntityRef;
  readonly contractRef: EntityRef;
  readonly customerRef: EntityRef;
  readonly invoiceRef?: EntityRef;
  readonly taskRef?: EntityRef;
  readonly resourceRef?: EntityRef;
  readonly transactionCategoryRef?: EntityRef;
  readonly unitRef?: EntityRef;
  readonly adjustmentStatus?: AdjustmentStatus;
  readonly billingStatus?: BillingStatus;
};

export type ActualMessageReading =
  | { readonly kind: 'actual'; readonly actual: NativeActual }
  | { readonly kind: 'adjustment'; readonly actualId: string; readonly adjustmentStatus: AdjustmentStatus }
  | NotRead;

/** Columns Dataverse sets on every update; they do not make an update more than an adjustment. */
const BOOKKEEPING = new Set([
  'msdyn_actualid',
  'modifiedon',
  'modifiedby',
  'modifiedonbehalfby',
  'versionnumber',
  'msdyn_adjustmentstatus',
]);

export function readActualMessage(value: unknown, options: MessageOptions = {}): ActualMessageReading {
  const opened = openRecordMessage(value, 'msdyn_actual', options);
  if (opened.kind !== 'record') return opened;
  return attempt(() => (isAdjustmentOnly(opened.view) ? adjustment(opened.view) : actual(opened.view)));
}

function isAdjustmentOnly(view: RecordView): boolean {
  return view.message === 'Update' && view.changed.has('msdyn_adjustmentstatus') && [...view.changed].every((c) => BOOKKEEPING.has(c));
}

function adjustment(view: RecordView): ActualMessageReading {
  return {
    kind: 'adjustment',
    actualId: view.id,
    adjustmentStatus: requiredColumn(view, 'msdyn_adjustmentstatus', optionSet(ADJUSTMENT_STATUS)),
  };
}

function actual(view: RecordView): ActualMessageReading {
  const type = requiredColumn(view, 'msdyn_transactiontypecode', namedBy(transactionType));
  const invoiceRef =
    type === 'BilledSales'
      ? requiredColumn(view, 'msdyn_invoice', entityReference('invoice'))
      : optionalColumn(view, 'msdyn_invoice', entityReference('invoice'));
  const optional = {
    price: optionalColumn(view, 'msdyn_price', money),
    quantity: optionalColumn(view, 'msdyn_quantity', decimal),
    invoiceRef,
    taskRef: optionalColumn(view, 'msdyn_task', entityReference('msdyn_projecttask')),
    resourceRef: optionalColumn(view, 'msdyn_bookableresource', entityReference('bookableresource')),
    transactionCategoryRef: optionalColumn(view, 'msdyn_transactioncategory', entityReference('msdyn_transactioncategory')),
    unitRef: optionalColumn(view, 'msdyn_unit', entityReference('uom')),
    adjustmentStatus: optionalColumn(view, 'msdyn_adjustmentstatus', optionSet(ADJUSTMENT_STATUS)),
    billingStatus: optionalColumn(view, 'msdyn_billingstatus', optionSet(BILLING_STATUS)),
  };
  return {
    kind: 'actual',
    actual: {
      actualId: view.attributes.has('msdyn_actualid') ? requiredColumn(view, 'msdyn_actualid', guid) : view.id,
      transactionType: type,
      transactionClassification: requiredColumn(view, 'msdyn_transactionclassification', namedBy(transactionClassification)),
      billingType: requiredColumn(view, 'msdyn_billingtype', namedBy(billingType)),
      amount: requiredColumn(view, 'msdyn_amount', money),
      documentDate: requiredColumn(view, 'msdyn_documentdate', dateOnly),
      versionText: recordVersion(view),
      currencyRef: requiredColumn(view, 'transactioncurrencyid', entityReference('transactioncurrency')),
      projectRef: requiredColumn(view, 'msdyn_project', entityReference('msdyn_project')),
      contractRef: requiredColumn(view, 'msdyn_salescontract', entityReference('salesorder')),
      customerRef: requiredColumn(view, 'msdyn_accountcustomer', entityReference('account')),
      ...withoutUndefined(optional),
    },
  };
}

function withoutUndefined<T extends object>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
