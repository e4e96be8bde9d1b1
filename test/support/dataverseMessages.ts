/**
 * Builders for native Dataverse service-endpoint messages: RemoteExecutionContext
 * in the JSON message format, shaped after Microsoft's published sample
 * ("Use WebHooks to create external handlers for server events" shows one in
 * full; the service endpoint posts the same JSON). Values use the
 * DataContractJsonSerializer forms: { key, value } collections, __type hints,
 * "/Date(ms)/" dates; `messageText` also escapes "/" as "\/" as .NET does.
 */
const CONTRACTS = 'http://schemas.microsoft.com/xrm/2011/Contracts';

/** A GUID that reads back to its tag and number: the tag's letters as hex in the first group. */
export const XRM_GUID = (n: number, tag = 'd') =>
  `${Buffer.from(tag).toString('hex').padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${n.toString().padStart(12, '0')}`;

export const money = (value: number) => ({ __type: `Money:${CONTRACTS}`, Value: value });
export const optionSetValue = (value: number) => ({ __type: `OptionSetValue:${CONTRACTS}`, Value: value });
export const reference = (logicalName: string, id: string, name: string | null = null) => ({
  __type: `EntityReference:${CONTRACTS}`,
  Id: id,
  KeyAttributes: [],
  LogicalName: logicalName,
  Name: name,
  RowVersion: null,
});
/** "/Date(ms)/", or with the server's offset "/Date(ms+0000)/". */
export const wcfDate = (isoOrMs: string | number, offset?: string) =>
  `/Date(${typeof isoOrMs === 'number' ? isoOrMs : Date.parse(isoOrMs)}${offset ?? ''})/`;

export type Columns = Record<string, unknown>;

export type MessageEntity = {
  __type?: string;
  Attributes: { key: string; value: unknown }[];
  LogicalName: string;
  Id: string;
  RowVersion: string | null;
  [other: string]: unknown;
};

export type NativeMessage = {
  MessageName: string;
  PrimaryEntityName: string;
  PrimaryEntityId: string;
  InputParameters?: { key: string; value: MessageEntity }[] | null;
  PostEntityImages?: { key: string; value: MessageEntity }[];
  PreEntityImages?: { key: string; value: MessageEntity }[] | null;
  [other: string]: unknown;
};

export function entity(logicalName: string, id: string, columns: Columns, typeHint = true): MessageEntity {
  return {
    ...(typeHint ? { __type: `Entity:${CONTRACTS}` } : {}),
    Attributes: Object.entries(columns).map(([key, value]) => ({ key, value })),
    EntityState: null,
    FormattedValues: [],
    Id: id,
    KeyAttributes: [],
    LogicalName: logicalName,
    RelatedEntities: [],
    RowVersion: null,
  };
}

export type ContextParts = {
  message: string;
  entity: string;
  id: string;
  target?: Columns;
  postImage?: Columns;
  /** Dataverse removed InputParameters and the images: the message was over 192 KB. */
  stripped?: boolean;
};

export function executionContext({ message, entity: logicalName, id, target, postImage, stripped }: ContextParts): NativeMessage {
  const envelope = {
    BusinessUnitId: XRM_GUID(1, 'b0'),
    CorrelationId: XRM_GUID(2, 'c0'),
    Depth: 1,
    InitiatingUserId: XRM_GUID(3, 'e0'),
    IsExecutingOffline: false,
    IsInTransaction: false,
    IsOfflinePlayback: false,
    IsolationMode: 1,
    MessageName: message,
    Mode: 1,
    OperationCreatedOn: '/Date(1764547200000+0000)/',
    OperationId: XRM_GUID(4, 'f0'),
    OrganizationId: XRM_GUID(5, 'a0'),
    OrganizationName: 'contoso',
    OutputParameters: [],
    OwningExtension: reference('sdkmessageprocessingstep', XRM_GUID(6, 'a1')),
    PrimaryEntityId: id,
    PrimaryEntityName: logicalName,
    RequestId: null,
    SecondaryEntityName: 'none',
    SharedVariables: [],
    Stage: 40,
    UserId: XRM_GUID(3, 'e0'),
  };
  if (stripped) return { ...envelope, ParentContext: null };
  return {
    ...envelope,
    InputParameters: target ? [{ key: 'Target', value: entity(logicalName, id, target) }] : [],
    ParentContext: null,
    PostEntityImages: postImage ? [{ key: 'PostImage', value: entity(logicalName, id, postImage, false) }] : [],
    PreEntityImages: [],
  };
}

/** The message body as Dataverse writes it: JSON with "/" escaped. */
export function messageText(context: object): string {
  return JSON.stringify(context).replace(/\//g, '\\/');
}

// --- invoice -----------------------------------------------------------------

export const INVOICE_STATUS = { Draft: 192350000, InReview: 192350001, Confirmed: 192350002, InvoicePaid: 192350003 } as const;

export const INVOICE_ID = XRM_GUID(1, 'inv');
export const REFS = {
  currency: reference('transactioncurrency', XRM_GUID(1, 'cur'), 'US Dollar'),
  customer: reference('account', XRM_GUID(1, 'acc'), 'Contoso Ltd'),
  contract: reference('salesorder', XRM_GUID(1, 'ord'), 'Contoso implementation'),
  project: reference('msdyn_project', XRM_GUID(1, 'prj'), 'Implementation'),
  invoice: reference('invoice', INVOICE_ID, 'November'),
};

export function invoiceColumns(overrides: Columns = {}): Columns {
  return {
    invoiceid: INVOICE_ID,
    invoicenumber: 'INV-01001',
    name: 'November',
    description: 'November time and expenses',
    msdyn_projectinvoicestatus: optionSetValue(INVOICE_STATUS.Confirmed),
    totallineitemamount: money(1250.5),
    totaltax: money(100.04),
    totalamount: money(1350.54),
    msdyn_invoicedate: wcfDate('2026-11-30T00:00:00Z', '+0000'),
    transactioncurrencyid: REFS.currency,
    customerid: REFS.customer,
    salesorderid: REFS.contract,
    versionnumber: 4711001,
    modifiedon: wcfDate('2026-11-30T10:15:00Z'),
    ...overrides,
  };
}

/** An invoice created already Confirmed (Target carries every column). */
export function confirmedInvoiceCreate(overrides: Columns = {}) {
  const columns = invoiceColumns(overrides);
  return executionContext({ message: 'Create', entity: 'invoice', id: INVOICE_ID, target: columns, postImage: columns });
}

/** An Update whose Target carries only the changed columns; the post-image has the rest. */
export function invoiceStatusUpdate(status: number, image: Columns = {}) {
  return executionContext({
    message: 'Update',
    entity: 'invoice',
    id: INVOICE_ID,
    target: { invoiceid: INVOICE_ID, msdyn_projectinvoicestatus: optionSetValue(status), modifiedon: wcfDate('2026-11-30T10:15:00Z') },
    postImage: invoiceColumns({ msdyn_projectinvoicestatus: optionSetValue(INVOICE_STATUS.InReview), ...image }),
  });
}

// --- msdyn_actual ------------------------------------------------------------

export const ACTUAL_ID = XRM_GUID(1, 'act');
export const TRANSACTION = { Cost: 192350000, UnbilledSales: 192350005, BilledSales: 192350006 } as const;
export const CLASS = { Time: 192350000, Expense: 192350001 } as const;
export const BILLING = { NonChargeable: 192350000, Chargeable: 192350001 } as const;
export const ADJUSTMENT = { InProcess: 192350000, Adjusted: 192350001, Unadjustable: 192350002 } as const;

export function actualColumns(overrides: Columns = {}): Columns {
  return {
    msdyn_actualid: ACTUAL_ID,
    msdyn_description: 'Consulting, week 47',
    msdyn_transactiontypecode: optionSetValue(TRANSACTION.BilledSales),
    msdyn_transactionclassification: optionSetValue(CLASS.Time),
    msdyn_billingtype: optionSetValue(BILLING.Chargeable),
    msdyn_quantity: 8,
    msdyn_price: money(156.3125),
    msdyn_amount: money(1250.5),
    msdyn_documentdate: wcfDate('2026-11-20T00:00:00Z', '+0000'),
    msdyn_invoice: REFS.invoice,
    msdyn_project: REFS.project,
    msdyn_salescontract: REFS.contract,
    msdyn_accountcustomer: REFS.customer,
    transactioncurrencyid: REFS.currency,
    msdyn_billingstatus: optionSetValue(192350001),
    versionnumber: 4711002,
    ...overrides,
  };
}

export function actualCreate(overrides: Columns = {}) {
  const columns = actualColumns(overrides);
  return executionContext({ message: 'Create', entity: 'msdyn_actual', id: ACTUAL_ID, target: columns, postImage: columns });
}

/** Project Operations marking a posted actual Adjusted after a correction. */
export function actualMarkedAdjusted() {
  return executionContext({
    message: 'Update',
    entity: 'msdyn_actual',
    id: ACTUAL_ID,
    target: {
      msdyn_actualid: ACTUAL_ID,
      msdyn_adjustmentstatus: optionSetValue(ADJUSTMENT.Adjusted),
      modifiedon: wcfDate('2026-12-02T08:00:00Z'),
    },
    postImage: actualColumns({ msdyn_adjustmentstatus: optionSetValue(ADJUSTMENT.Adjusted), versionnumber: 4711900 }),
  });
}

export function strippedMessage(entityName: string, id: string, message = 'Update') {
  return executionContext({ message, entity: entityName, id, stripped: true });
}

/** The reason of an `invalid` reading, or a sentence saying it was something else. */
export function invalidReason(reading: { kind: string; reason?: string }): string {
  return reading.kind === 'invalid' ? (reading.reason ?? '') : `not invalid but ${reading.kind}`;
}
