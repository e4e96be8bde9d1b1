import { AttributeProblem, type EntityRef } from '../contracts/dataverse/attributeValues';
import { RecentlyUsed } from './recentlyUsed';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
import { readStrippedRecord, type MessageAttribute } from './strippedRecords';
import type { WebApiReads, WebApiRow } from './webApiReads';

/** msdyn_transactiontypecode of a billed sales actual. */
const BILLED_SALES = 192350006;

export interface LookupOptions {
  /** The salesorder lookup column that names the contract's cdm_company (DATAVERSE_CONTRACT_COMPANY_COLUMN). */
  contractCompanyColumn: string;
  /** Entries per cache (currencies, accounts, companies). */
  cacheSize?: number;
}

export type ContractKeys = { readonly contractNumber: string; readonly legalEntity: string };

/** A business key: which table, which column, and whether it may be cached (the rows that do not change). */
type KeyColumn = { readonly set: string; readonly column: string; readonly cache?: RecentlyUsed<string, string> };

/**
 * Turns the GUID references of a native message into the business keys our
 * contracts carry, through the Web API. Each lookup names the message
 * attribute it resolves, so a reference Dataverse answers 404 for (or a row
 * whose key column is empty) becomes an AttributeProblem naming it, and the
 * message is quarantined with that reason. Throttling and outages throw (see
 * WebApiReads), so Service Bus redelivers.
 *
 * Currencies, accounts and companies are cached: their keys do not change
 * in the life of a process, and every message names them. Each cache is a
 * bounded LRU (RecentlyUsed, 1,000 entries by default), so many customers
 * cannot grow the process without limit.
 */
export class DataverseLookups {
  private readonly currencies: KeyColumn;
  private readonly accounts: KeyColumn;
  private readonly companies: KeyColumn;
  private readonly invoices: KeyColumn = { set: 'invoices', column: 'invoicenumber' };
  private readonly projects: KeyColumn = { set: 'msdyn_projects', column: 'msdyn_projectnumber' };

  constructor(
    private readonly reads: Pick<WebApiReads, 'row' | 'count'>,
    private readonly options: LookupOptions,
  ) {
    const size = options.cacheSize ?? 1000;
    this.currencies = { set: 'transactioncurrencies', column: 'isocurrencycode', cache: new RecentlyUsed(size) };
    this.accounts = { set: 'accounts', column: 'accountnumber', cache: new RecentlyUsed(size) };
    this.companies = { set: 'cdm_companies', column: 'cdm_companycode', cache: new RecentlyUsed(size) };
  }

  /** The ISO 4217 code of a transactioncurrency. */
  currencyCode(attribute: string, ref: EntityRef): Promise<string> {
    return this.key(attribute, ref, this.currencies);
  }

  /** The account number of the customer; Project Operations bills accounts, so a contact is refused by name. */
  customerAccount(attribute: string, ref: EntityRef): Promise<string> {
    if (ref.logicalName !== 'account') {
      return Promise.reject(new AttributeProblem(attribute, `points to a ${ref.logicalName}; the customer must be an account`));
    }
    return this.key(attribute, ref, this.accounts);
  }

  projectNumber(attribute: string, ref: EntityRef): Promise<string> {
    return this.key(attribute, ref, this.projects);
  }

  /** The proposal id of an invoice: its invoicenumber. */
  invoiceNumber(attribute: string, ref: EntityRef): Promise<string> {
    return this.key(attribute, ref, this.invoices);
  }

  /** The project contract's number and legal entity (its company's cdm_companycode). */
  async contract(attribute: string, ref: EntityRef): Promise<ContractKeys> {
    const companyColumn = this.options.contractCompanyColumn;
    const lookup = `_${companyColumn}_value`;
    const row = await this.existing(attribute, ref, 'salesorders', ['ordernumber', lookup]);
    const contractNumber = keyText(attribute, ref, row, 'ordernumber');
    const companyId = row[lookup];
    if (typeof companyId !== 'string' || companyId === '') {
      throw new AttributeProblem(
        attribute,
        `points to salesorder ${ref.id}, whose ${companyColumn} (DATAVERSE_CONTRACT_COMPANY_COLUMN) names no company, so its legal entity is unknown`,
      );
    }
    const company = { id: companyId.toLowerCase(), logicalName: 'cdm_company' };
    const legalEntity = await this.key(`${attribute} → ${companyColumn}`, company, this.companies);
    return { contractNumber, legalEntity };
  }

  /**
   * How many billed sales actuals Dataverse has for the invoice: the number
   * the proposal must wait for, whatever has arrived here so far.
   */
  billedSalesCount(invoiceId: string): Promise<number> {
    // The Web API has no parameterised $filter: the id goes in as text, so it must be exactly a GUID.
    if (!GUID.test(invoiceId)) throw new Error(`invoiceid: ${JSON.stringify(invoiceId)} is not a GUID; it cannot go into a $filter`);
    return this.reads.count(
      'msdyn_actuals',
      `_msdyn_invoice_value eq ${invoiceId} and msdyn_transactiontypecode eq ${BILLED_SALES}`,
      'msdyn_actualid',
    );
  }

  /** The columns of a record whose message was stripped for size, in message form; undefined when Dataverse has no such record. */
  strippedRecord(entity: string, id: string): Promise<MessageAttribute[] | undefined> {
    return readStrippedRecord(this.reads, entity, id);
  }

  private async key(attribute: string, ref: EntityRef, key: KeyColumn): Promise<string> {
    const load = async () => keyText(attribute, ref, await this.existing(attribute, ref, key.set, [key.column]), key.column);
    return key.cache ? key.cache.through(ref.id, load) : load();
  }

  private async existing(attribute: string, ref: EntityRef, set: string, select: readonly string[]): Promise<WebApiRow> {
    const row = await this.reads.row(set, ref.id, select);
    if (!row) throw new AttributeProblem(attribute, `points to ${ref.logicalName} ${ref.id}, which Dataverse does not have (404)`);
    return row;
  }
}

function keyText(attribute: string, ref: EntityRef, row: WebApiRow, column: string): string {
  const value = row[column];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AttributeProblem(attribute, `points to ${ref.logicalName} ${ref.id}, whose ${column} is empty`);
  }
  return value;
}
