import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFromStaging } from '../../shared/pipeline/importFromStaging';
import type { Delivery } from '../../shared/pipeline/inbound';
import { readProposal } from '../../shared/pipeline/readModels';
import { stageActual } from '../../shared/pipeline/stageActual';
import { syncInvoiceProposal } from '../../shared/pipeline/syncInvoiceProposal';
import { QUEUES } from '../../shared/queues';
import type { Runtime } from '../../shared/runtime';
import {
  actualMarkedAdjusted,
  INVOICE_ID,
  INVOICE_STATUS,
  invoiceStatusUpdate,
  messageText,
  strippedMessage,
} from '../support/dataverseMessages';
import {
  ACTUALS,
  actualId,
  dataverseSeed,
  nativeActualCreate,
  nativeInvoiceCreate,
  OTHER_INVOICE_ID,
  ownActual,
  ownInvoice,
} from '../support/nativeScenario';
import { silentLog, testRuntime } from '../support/runtime';
import { startDataverseSimulator, type DataverseSimulator } from './simulator/server';

/** A delivery as the Functions host hands it over: the message text, as Dataverse wrote it or as our senders do. */
const header = (rt: Runtime, body: object | string, id = 'h') => syncInvoiceProposal(rt, delivery(QUEUES.proposals, body, id), silentLog);
const actual = (rt: Runtime, body: object | string, id = 'a') => stageActual(rt, delivery(QUEUES.actuals, body, id), silentLog);
function delivery(source: string, body: object | string, messageId: string): Delivery {
  const native = typeof body === 'object' && 'MessageName' in body;
  return { source, messageId, body: typeof body === 'string' ? body : native ? messageText(body) : JSON.stringify(body) };
}

const versionOf = (dv: DataverseSimulator, set: string, id: string) => Number(dv.records.row(set, id)!.versionnumber as bigint);

describe('native Dataverse messages through both queues (Dataverse Web API stand-in)', () => {
  let dv: DataverseSimulator;
  let own: Runtime;
  let native: Runtime;
  beforeAll(async () => {
    dv = await startDataverseSimulator({ seed: dataverseSeed() });
    own = await testRuntime();
    native = await testRuntime({}, { DATAVERSE_URL: dv.url });
  });
  afterAll(() => dv.close());

  it('gives the same proposal and lines as the equivalent own-contract messages (Money, OptionSetValue, EntityReference, /Date(), a stripped actual)', async () => {
    const [first, second] = ACTUALS;
    const strippedVersion = versionOf(dv, 'msdyn_actuals', second!.id);
    // Native: a Create with post-image for the invoice and the first actual; the second actual arrives stripped
    // (over 192 KB) and is read from the Web API; a status update that is not a confirmation and an
    // Adjusted-only update change nothing.
    expect((await actual(native, nativeActualCreate(first!.id, { versionnumber: first!.version }))).kind).toBe('applied');
    expect((await header(native, nativeInvoiceCreate())).kind).toBe('applied');
    expect(await actual(native, strippedMessage('msdyn_actual', second!.id, 'Create'))).toMatchObject({ kind: 'applied' });
    expect(await header(native, invoiceStatusUpdate(INVOICE_STATUS.InReview))).toEqual({
      kind: 'ignored',
      detail: `invoice ${INVOICE_ID}: msdyn_projectinvoicestatus is InReview, not Confirmed: nothing to post`,
    });

    await actual(own, ownActual(first!.id, first!.version));
    await header(own, ownInvoice());
    await actual(own, ownActual(second!.id, strippedVersion));

    await importFromStaging(native, silentLog);
    await importFromStaging(own, silentLog);
    const nativeView = await readProposal(native, 'usmf', 'INV-01001');
    expect(nativeView).toMatchObject({ status: 'LinesCreated', transactionCount: 2, detailAmount: '1250.5', currency: 'USD' });
    expect(nativeView!.lines).toHaveLength(2);
    expect(nativeView).toEqual(await readProposal(own, 'usmf', 'INV-01001'));

    // Project Operations marks a posted actual Adjusted after a correction: completed, the proposal untouched.
    const adjusted = await actual(native, { ...actualMarkedAdjusted(), PrimaryEntityId: first!.id } as object);
    expect(adjusted.kind).toBe('ignored');
    expect(adjusted.detail).toMatch(/marked Adjusted after a correction/);
    expect(await readProposal(native, 'usmf', 'INV-01001')).toEqual(nativeView);
  });

  it('reads a stripped invoice message (MessageMaxSizeExceeded) from the Web API instead of quarantining it', async () => {
    const rt = await testRuntime({}, { DATAVERSE_URL: dv.url });
    const ownRt = await testRuntime();
    expect((await header(rt, strippedMessage('invoice', INVOICE_ID))).kind).toBe('applied');
    await header(ownRt, ownInvoice({ version: versionOf(dv, 'invoices', INVOICE_ID) }));
    const view = await readProposal(rt, 'usmf', 'INV-01001');
    expect(view).toMatchObject({ status: 'AwaitingLines', transactionCount: 2 });
    expect(view).toEqual(await readProposal(ownRt, 'usmf', 'INV-01001'));
  });

  it('gives an invoice no lines while Dataverse has billed sales actuals for it that have not arrived, even when those that did sum to its detail amount', async () => {
    const rt = await testRuntime({}, { DATAVERSE_URL: dv.url });
    const other = { invoice: { __type: 'EntityReference:x', Id: OTHER_INVOICE_ID, LogicalName: 'invoice' } };
    for (const n of [11, 12]) await actual(rt, nativeActualCreate(actualId(n), { msdyn_invoice: other.invoice }));
    await header(rt, nativeInvoiceCreate({ invoiceid: OTHER_INVOICE_ID, invoicenumber: 'INV-01002' }));
    await importFromStaging(rt, silentLog);
    const view = await readProposal(rt, 'usmf', 'INV-01002');
    expect(view).toMatchObject({ status: 'AwaitingLines', transactionCount: 4, detailAmount: '1250.5', lines: [] });
    expect(view!.reason).toMatch(/2 of 4/);
    // The count came from Dataverse, as $count over the invoice's billed sales actuals.
    const counts = dv.requests.map((r) => decodeURIComponent(r.url)).filter((url) => url.startsWith('msdyn_actuals?'));
    expect(counts.some((url) => url.includes('$count=true') && url.includes(`_msdyn_invoice_value eq ${OTHER_INVOICE_ID}`))).toBe(true);
  });
});
