/**
 * The tables the Dataverse stand-in serves, as entity sets of the Web API.
 * Names follow the Dataverse table references (invoice, msdyn_actual,
 * transactioncurrency, account, salesorder, msdyn_project, cdm_company …).
 * Only what a test or the local host needs is declared: the primary key,
 * alternate keys (a GET/PATCH by `set(col='value')` needs one, as in
 * Dataverse), single-valued navigation properties for $expand and
 * @odata.bind, and, where given, the writable columns, so that a PATCH naming
 * a column the table does not have fails as it would in Dataverse.
 */
export type Navigation = {
  /** The lookup property that holds the GUID, e.g. "_msdyn_invoice_value". */
  readonly lookup: string;
  /** The entity set it points to. */
  readonly target: string;
};

export type EntitySetDefinition = {
  readonly logicalName: string;
  readonly primaryKey: string;
  readonly alternateKeys?: readonly (readonly string[])[];
  readonly navigation?: Readonly<Record<string, Navigation>>;
  readonly columns?: readonly string[];
};

export type EntitySets = Readonly<Record<string, EntitySetDefinition>>;

const currency: Navigation = { lookup: '_transactioncurrencyid_value', target: 'transactioncurrencies' };
const customerAccount: Navigation = { lookup: '_customerid_value', target: 'accounts' };
const contractingUnit: Navigation = { lookup: '_msdyn_contractorganizationalunitid_value', target: 'msdyn_organizationalunits' };

/** msdyn_actual columns from its table reference (writable ones and the lookups set through @odata.bind). */
const ACTUAL_COLUMNS = [
  'msdyn_actualid',
  'msdyn_description',
  'msdyn_transactiontypecode',
  'msdyn_transactionclassification',
  'msdyn_billingtype',
  'msdyn_billingstatus',
  'msdyn_adjustmentstatus',
  'msdyn_amount',
  'msdyn_amount_base',
  'msdyn_price',
  'msdyn_quantity',
  'msdyn_basisamount',
  'msdyn_basisprice',
  'msdyn_basisquantity',
  'msdyn_percent',
  'msdyn_documentdate',
  'msdyn_accountingdate',
  'msdyn_exchangeratedate',
  'exchangerate',
  'msdyn_externalreferenceid',
  'msdyn_externalreferencedate',
  'msdyn_externaldescription',
  'msdyn_isjournalized',
  'msdyn_salescontractline',
  'msdyn_startdatetime',
  'msdyn_enddatetime',
  'statecode',
  'statuscode',
  '_msdyn_invoice_value',
  '_msdyn_project_value',
  '_msdyn_salescontract_value',
  '_msdyn_accountcustomer_value',
  '_transactioncurrencyid_value',
  '_msdyn_task_value',
  '_msdyn_transactioncategory_value',
  '_msdyn_unit_value',
  '_msdyn_bookableresource_value',
  '_msdyn_contractorganizationalunitid_value',
];

export const PROJECT_OPERATIONS_SETS: EntitySets = {
  invoices: {
    logicalName: 'invoice',
    primaryKey: 'invoiceid',
    navigation: {
      transactioncurrencyid: currency,
      customerid_account: customerAccount,
      salesorderid: { lookup: '_salesorderid_value', target: 'salesorders' },
    },
  },
  msdyn_actuals: {
    logicalName: 'msdyn_actual',
    primaryKey: 'msdyn_actualid',
    columns: ACTUAL_COLUMNS,
    navigation: {
      msdyn_Invoice: { lookup: '_msdyn_invoice_value', target: 'invoices' },
      msdyn_Project: { lookup: '_msdyn_project_value', target: 'msdyn_projects' },
      msdyn_SalesContract: { lookup: '_msdyn_salescontract_value', target: 'salesorders' },
      msdyn_AccountCustomer: { lookup: '_msdyn_accountcustomer_value', target: 'accounts' },
      msdyn_contractorganizationalunitid: contractingUnit,
      transactioncurrencyid: currency,
    },
  },
  transactioncurrencies: { logicalName: 'transactioncurrency', primaryKey: 'transactioncurrencyid' },
  accounts: { logicalName: 'account', primaryKey: 'accountid' },
  contacts: { logicalName: 'contact', primaryKey: 'contactid' },
  salesorders: {
    logicalName: 'salesorder',
    primaryKey: 'salesorderid',
    navigation: {
      transactioncurrencyid: currency,
      customerid_account: customerAccount,
      msdyn_contractorganizationalunitid: contractingUnit,
      // Dual-write's company column; which column names the legal entity is a setting of the integration.
      msdyn_company: { lookup: '_msdyn_company_value', target: 'cdm_companies' },
    },
  },
  msdyn_projects: { logicalName: 'msdyn_project', primaryKey: 'msdyn_projectid' },
  msdyn_organizationalunits: {
    logicalName: 'msdyn_organizationalunit',
    primaryKey: 'msdyn_organizationalunitid',
    navigation: { msdyn_companyid: { lookup: '_msdyn_companyid_value', target: 'cdm_companies' } },
  },
  // Dual-write's company table; its integration key is the company code.
  cdm_companies: { logicalName: 'cdm_company', primaryKey: 'cdm_companyid', alternateKeys: [['cdm_companycode']] },
};
