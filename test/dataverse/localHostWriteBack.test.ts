/**
 * The local host (what `npm start` runs) with DATAVERSE_URL pointing at the
 * Dataverse Web API stand-in and the write-back switched on: a posting's
 * accounting updates reach writeBackAccounting through the host's local queue,
 * as Service Bus would deliver them, and land on msdyn_actual.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposalWithActuals } from '../support/builders';
import { adminCall, spawnHost, until, type HostProcess } from '../support/hostProcess';
import { postingFor, signedHeaders } from '../support/posting';
import { testEnvironment } from '../support/runtime';
import { startDataverseSimulator, type DataverseSimulator } from './simulator/server';

const p = proposalWithActuals({ proposalId: 'PINV-LOCAL-WB', lines: 4 });
const actuals = p.actuals.map((a, i) => ({ ...a, actualId: `b0000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` }));

describe('npm start with DATAVERSE_URL: the write-back runs on the local host (Dataverse Web API stand-in)', () => {
  let dv: DataverseSimulator;
  let host: HostProcess;
  beforeAll(async () => {
    dv = await startDataverseSimulator({ seed: { msdyn_actuals: actuals.map((a) => ({ msdyn_actualid: a.actualId })) } });
    host = await spawnHost(testEnvironment({ DATAVERSE_URL: dv.url, 'AzureWebJobs.writeBackAccounting.Disabled': 'false' }));
  });
  afterAll(async () => {
    await host?.kill();
    await dv?.close();
  });

  it('a posted invoice shows its voucher and accounting date on every actual in Dataverse, and nothing is created', async () => {
    await adminCall(host.url, 'syncInvoiceProposal', p.invoice);
    for (const a of actuals) await adminCall(host.url, 'syncActuals', a);
    await until('the lines', async () => {
      await adminCall(host.url, 'importFromStaging', '');
      const view = (await (await fetch(`${host.url}/api/invoice-proposals/usmf/PINV-LOCAL-WB`)).json()) as { status: string };
      return view.status === 'LinesCreated';
    });
    const body = JSON.stringify(postingFor(actuals, { voucher: 'VOU-LOCAL-1', accountingDate: '2026-11-30' }));
    const posted = await fetch(`${host.url}/api/invoice-proposals/usmf/PINV-LOCAL-WB/posted`, {
      method: 'POST',
      headers: signedHeaders(body),
      body,
    });
    expect(posted.status).toBe(200);

    await until('every actual written back', async () =>
      actuals.every((a) => dv.records.row('msdyn_actuals', a.actualId)?.msdyn_externalreferenceid === 'VOU-LOCAL-1'),
    );
    for (const a of actuals) {
      expect(dv.records.row('msdyn_actuals', a.actualId)).toMatchObject({ msdyn_externalreferenceid: 'VOU-LOCAL-1' });
      expect(String(dv.records.row('msdyn_actuals', a.actualId)?.msdyn_accountingdate)).toMatch(/^2026-11-30/);
    }
    expect(dv.records.rows('msdyn_actuals')).toHaveLength(actuals.length);
    // writeBackAccounting takes its messages in batches (cardinality 'many'): fewer $batch requests than actuals.
    const batches = dv.requests.filter((r) => r.url.includes('$batch'));
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(actuals.length);
    const patches = dv.operations.filter((o) => o.method === 'PATCH');
    expect(patches.length).toBeGreaterThanOrEqual(actuals.length);
    expect(patches.every((o) => o.headers['if-match'] === '*')).toBe(true);
    // The updates stay readable where they were before, as the local stand-in for the outbound queue.
    const outbound = (await (await fetch(`${host.url}/admin/local/outbound`)).json()) as unknown[];
    expect(outbound).toHaveLength(actuals.length);
  });
});
