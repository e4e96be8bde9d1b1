import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientDataverseError } from '../../shared/dataverse/actualUpdates';
import type { Delivery, Outcome } from '../../shared/pipeline/inbound';
import { stageActual } from '../../shared/pipeline/stageActual';
import { syncInvoiceProposal } from '../../shared/pipeline/syncInvoiceProposal';
import { QUEUES } from '../../shared/queues';
import type { Runtime } from '../../shared/runtime';
import { executionContext, messageText, optionSetValue, reference, wcfDate, XRM_GUID } from '../support/dataverseMessages';
import { dataverseSeed, nativeActualCreate, nativeInvoiceCreate } from '../support/nativeScenario';
import { silentLog, testRuntime } from '../support/runtime';
import { startDataverseSimulator, type DataverseSimulator } from './simulator/server';

const MISSING = XRM_GUID(99, 'miss');

async function header(rt: Runtime, body: object | string): Promise<Outcome> {
  const d: Delivery = { source: QUEUES.proposals, messageId: 'h', body: typeof body === 'string' ? body : messageText(body) };
  return syncInvoiceProposal(rt, d, silentLog);
}
async function actual(rt: Runtime, body: object): Promise<Outcome> {
  return stageActual(rt, { source: QUEUES.actuals, messageId: 'a', body: messageText(body) }, silentLog);
}
const quarantined = (o: Outcome) => (o.kind === 'quarantined' ? o.detail : `not quarantined but ${o.kind}: ${o.detail}`);

describe('bad native input is quarantined with the attribute named (Dataverse Web API stand-in)', () => {
  let dv: DataverseSimulator;
  let rt: Runtime;
  beforeAll(async () => {
    const seed = dataverseSeed();
    // A contract whose company lookup is empty: its legal entity cannot be known.
    seed.salesorders.push({ salesorderid: XRM_GUID(2, 'ord'), ordernumber: 'PC-0002', _msdyn_company_value: null as unknown as string });
    dv = await startDataverseSimulator({ seed });
    rt = await testRuntime({}, { DATAVERSE_URL: dv.url });
  });
  afterAll(() => dv.close());

  it('another table on the queue names PrimaryEntityName', async () => {
    const account = executionContext({ message: 'Create', entity: 'account', id: XRM_GUID(1, 'acc'), target: { name: 'x' } });
    expect(quarantined(await header(rt, account))).toMatch(/^PrimaryEntityName: "account" is not handled here; expected invoice/);
  });

  it('another message names MessageName', async () => {
    const deleted = { ...nativeInvoiceCreate(), MessageName: 'Delete' };
    expect(quarantined(await header(rt, deleted))).toMatch(/^MessageName: "Delete" is not handled/);
  });

  it('an unknown option-set value names its column', async () => {
    expect(quarantined(await header(rt, nativeInvoiceCreate({ msdyn_projectinvoicestatus: optionSetValue(192359999) })))).toBe(
      'msdyn_projectinvoicestatus: has unknown option-set value 192359999',
    );
    expect(quarantined(await actual(rt, nativeActualCreate(XRM_GUID(7, 'act'), { msdyn_transactiontypecode: optionSetValue(5) })))).toBe(
      'msdyn_transactiontypecode: has unknown option-set value 5',
    );
  });

  it('a malformed /Date() names its column', async () => {
    expect(quarantined(await header(rt, nativeInvoiceCreate({ msdyn_invoicedate: '/Date(yesterday)/' })))).toMatch(
      /^msdyn_invoicedate: malformed \/Date\(\)/,
    );
    const late = nativeActualCreate(XRM_GUID(8, 'act'), { msdyn_documentdate: wcfDate('2026-11-20T13:00:00Z') });
    expect(quarantined(await actual(rt, late))).toMatch(/^msdyn_documentdate: carries a time of day/);
  });

  it('a lookup Dataverse answers 404 for names the attribute', async () => {
    const currency = reference('transactioncurrency', MISSING);
    expect(quarantined(await header(rt, nativeInvoiceCreate({ transactioncurrencyid: currency })))).toBe(
      `transactioncurrencyid: points to transactioncurrency ${MISSING}, which Dataverse does not have (404)`,
    );
    const project = reference('msdyn_project', MISSING);
    expect(quarantined(await actual(rt, nativeActualCreate(XRM_GUID(9, 'act'), { msdyn_project: project })))).toMatch(
      /^msdyn_project: points to/,
    );
  });

  it('a contract without a company names it and the setting, never taking some company', async () => {
    const contract = reference('salesorder', XRM_GUID(2, 'ord'));
    expect(quarantined(await header(rt, nativeInvoiceCreate({ salesorderid: contract })))).toMatch(
      /^salesorderid: points to salesorder .*, whose msdyn_company \(DATAVERSE_CONTRACT_COMPANY_COLUMN\) names no company/,
    );
  });

  it('a stripped message whose record is gone names PrimaryEntityId', async () => {
    const stripped = executionContext({ message: 'Update', entity: 'invoice', id: MISSING, stripped: true });
    expect(quarantined(await header(rt, stripped))).toBe(
      `PrimaryEntityId: invoice ${MISSING} is no longer in Dataverse (404), so there is nothing to read`,
    );
  });

  it('a versionnumber above 2^53 − 1 is refused by name, not rounded', async () => {
    const text = messageText(nativeInvoiceCreate({ versionnumber: 4711001 })).replace('4711001', '9007199254740993');
    expect(quarantined(await header(rt, text))).toMatch(/^versionnumber: is 9007199254740993, above 2\^53 − 1/);
  });

  it('without DATAVERSE_URL a native message is quarantined saying so', async () => {
    const withoutDataverse: Runtime = { ...rt, dataverse: undefined };
    expect(quarantined(await header(withoutDataverse, nativeInvoiceCreate()))).toMatch(/needs DATAVERSE_URL to resolve its lookups/);
  });

  it('a 429 is transient: the delivery throws (Service Bus redelivers), nothing is quarantined', async () => {
    const before = (await rt.quarantine.list()).length;
    dv.throttleNext(1, { retryAfterSeconds: 1 });
    await expect(header(rt, nativeInvoiceCreate({ invoiceid: XRM_GUID(3, 'inv') }))).rejects.toBeInstanceOf(TransientDataverseError);
    expect(await rt.quarantine.list()).toHaveLength(before);
  });
});
