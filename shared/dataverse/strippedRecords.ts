import type { WebApiReads, WebApiRow } from './webApiReads';

/**
 * A message over 192 KB arrives without its images and Target. This reads the
 * record it is about from the Web API and writes its columns back in the
 * message's own JSON form (Money and OptionSetValue as { Value }, lookups as
 * EntityReference, dates as "/Date(ms)/"), so the same decoders read it as if
 * it had been in the message. Only the columns the decoders read are selected.
 */
type ColumnKind = 'value' | 'money' | 'optionSet' | 'date' | { readonly lookup: readonly string[] };

const INVOICE_COLUMNS: Readonly<Record<string, ColumnKind>> = {
  invoiceid: 'value',
  invoicenumber: 'value',
  description: 'value',
  msdyn_projectinvoicestatus: 'optionSet',
  totallineitemamount: 'money',
  totaltax: 'money',
  totalamount: 'money',
  msdyn_invoicedate: 'date',
  transactioncurrencyid: { lookup: ['transactioncurrency'] },
  customerid: { lookup: ['account', 'contact'] },
  salesorderid: { lookup: ['salesorder'] },
  versionnumber: 'value',
};

const ACTUAL_COLUMNS: Readonly<Record<string, ColumnKind>> = {
  msdyn_actualid: 'value',
  msdyn_transactiontypecode: 'optionSet',
  msdyn_transactionclassification: 'optionSet',
  msdyn_billingtype: 'optionSet',
  msdyn_adjustmentstatus: 'optionSet',
  msdyn_billingstatus: 'optionSet',
  msdyn_amount: 'money',
  msdyn_price: 'money',
  msdyn_quantity: 'value',
  msdyn_documentdate: 'date',
  msdyn_invoice: { lookup: ['invoice'] },
  msdyn_project: { lookup: ['msdyn_project'] },
  msdyn_salescontract: { lookup: ['salesorder'] },
  msdyn_accountcustomer: { lookup: ['account'] },
  transactioncurrencyid: { lookup: ['transactioncurrency'] },
  msdyn_task: { lookup: ['msdyn_projecttask'] },
  msdyn_bookableresource: { lookup: ['bookableresource'] },
  msdyn_transactioncategory: { lookup: ['msdyn_transactioncategory'] },
  msdyn_unit: { lookup: ['uom'] },
  versionnumber: 'value',
};

const TABLES: Readonly<Record<string, { set: string; columns: Readonly<Record<string, ColumnKind>> }>> = {
  invoice: { set: 'invoices', columns: INVOICE_COLUMNS },
  msdyn_actual: { set: 'msdyn_actuals', columns: ACTUAL_COLUMNS },
};

export type MessageAttribute = { key: string; value: unknown };

/** The record's attributes in message form; undefined when Dataverse no longer has it (404). */
export async function readStrippedRecord(
  reads: Pick<WebApiReads, 'row'>,
  entity: string,
  id: string,
): Promise<MessageAttribute[] | undefined> {
  const table = TABLES[entity];
  if (!table) throw new RangeError(`no stripped-message reading for ${entity}`);
  const select = Object.entries(table.columns).map(([column, kind]) => (typeof kind === 'object' ? `_${column}_value` : column));
  const row = await reads.row(table.set, id, select);
  if (!row) return undefined;
  return Object.entries(table.columns).flatMap(([column, kind]) => {
    const value = typeof kind === 'object' ? lookupValue(row, column, kind.lookup) : columnValue(row[column], kind);
    return value === undefined ? [] : [{ key: column, value }];
  });
}

function columnValue(value: unknown, kind: Exclude<ColumnKind, object>): unknown {
  if (value === undefined || value === null) return value;
  switch (kind) {
    case 'value':
      return value;
    case 'money':
    case 'optionSet':
      return { Value: value };
    case 'date':
      return wcfDate(value);
  }
}

/** `_x_value` holds the GUID; the annotation names the table when the lookup can point to several. */
function lookupValue(row: WebApiRow, column: string, targets: readonly string[]): unknown {
  const id = row[`_${column}_value`];
  if (id === undefined || id === null) return id;
  const annotated = row[`_${column}_value@Microsoft.Dynamics.CRM.lookuplogicalname`];
  return { Id: id, LogicalName: typeof annotated === 'string' ? annotated : targets[0] };
}

/**
 * The Web API gives a date-only column as "YYYY-MM-DD" (midnight of that
 * date), and a user-local one as an instant, which dynamics-web-api turns into
 * a Date; both become "/Date(ms)/", and the date-only decoder checks the time.
 */
function wcfDate(value: unknown): unknown {
  if (value instanceof Date) return `/Date(${value.getTime()})/`;
  if (typeof value === 'string') {
    const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
    return Number.isNaN(ms) ? value : `/Date(${ms})/`;
  }
  return value;
}
