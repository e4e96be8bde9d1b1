import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpResponseInit } from '@azure/functions';
import importFromStaging from '../../functions/importFromStaging';
import recordPosting from '../../functions/recordPosting';
import syncActuals from '../../functions/syncActuals';
import syncInvoiceProposal from '../../functions/syncInvoiceProposal';
import writeBackFunction from '../../functions/writeBackAccounting';
import { resetSettings } from '../../shared/config';
import { ActualUpdates } from '../../shared/dataverse/actualUpdates';
import { TableOutbound } from '../../shared/messaging/accountingUpdates';
import { writeBackAccounting } from '../../shared/pipeline/writeBackAccounting';
import { QUEUES } from '../../shared/queues';
import type { Runtime } from '../../shared/runtime';
import { deliverMessage, httpRequest, proposalWithActuals, serviceBusContext } from '../support/builders';
import { postingFor, signedHeaders } from '../support/posting';
import { silentLog, testRuntime } from '../support/runtime';
import { startDataverseSimulator, type DataverseSimulator } from './simulator/server';

const timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
const CUSTOMER_INVOICE_POSTED = 192350002;

/** Proposals whose actuals carry Dataverse row ids (GUIDs), as real ones do. */
const proposals = [
  { proposalId: 'PINV-WB-001', lines: 3 },
  { proposalId: 'PINV-WB-002', lines: 12, legalEntity: 'DEMF', currency: 'EUR' },
].map((spec, k) => {
  const p = proposalWithActuals(spec);
  const actuals = p.actuals.map((a, i) => ({ ...a, actualId: `ac00000${k}-0000-4000-8000-${String(i + 1).padStart(12, '0')}` }));
  return { ...p, actuals };
});
const allActuals = proposals.flatMap((p) => p.actuals);

describe('end to end: confirmed, imported, posted, written back onto msdyn_actual (Dataverse Web API stand-in)', () => {
  let rt: Runtime;
  let dv: DataverseSimulator;
  beforeAll(async () => {
    rt = await testRuntime();
    dv = await startDataverseSimulator({
      seed: {
        msdyn_actuals: allActuals.map((a) => ({
          msdyn_actualid: a.actualId,
          msdyn_billingstatus: CUSTOMER_INVOICE_POSTED,
          msdyn_amount: Number(a.amount),
        })),
      },
    });
  });
  afterAll(async () => {
    delete process.env.DATAVERSE_URL;
    resetSettings();
    await dv.close();
  });

  it("writes every posted actual's voucher and accounting date back, once each, in $batch requests, creating nothing", async () => {
    for (const p of proposals) {
      await syncInvoiceProposal.handler(JSON.stringify(p.invoice), serviceBusContext());
      for (const a of p.actuals) await deliverMessage(syncActuals, JSON.stringify(a));
    }
    await importFromStaging.handler(timer, serviceBusContext());
    for (const [i, p] of proposals.entries()) {
      const body = JSON.stringify(
        postingFor(p.actuals, { voucher: `VOU-WB-${i}`, accountingDate: `2026-11-2${i}`, accountingCurrency: p.invoice.currency }),
      );
      const request = httpRequest({
        method: 'POST',
        url: 'http://x',
        params: { legalEntity: p.invoice.legalEntity, proposalId: p.invoice.proposalId },
        headers: signedHeaders(body),
        body,
      });
      expect(((await recordPosting.handler(request, serviceBusContext())) as HttpResponseInit).status).toBe(200);
    }

    // What the posting put on the outbound queue (its local stand-in), delivered to the write-back.
    const sent = await new TableOutbound(rt.tables.localOutbound, QUEUES.accountingUpdates).read();
    expect(sent).toHaveLength(allActuals.length);
    const deliveries = sent.map((m) => ({ source: QUEUES.accountingUpdates, messageId: m.messageId, body: JSON.stringify(m.body) }));
    const outcomes = await writeBackAccounting(rt, new ActualUpdates({ serverUrl: dv.url, batchSize: 10 }), deliveries, silentLog);
    expect(outcomes.every((o) => o.kind === 'applied')).toBe(true);

    expect(dv.requests.every((r) => r.method === 'POST' && r.url === '$batch')).toBe(true);
    expect(dv.requests).toHaveLength(Math.ceil(allActuals.length / 10));
    const patched = dv.operations.filter((o) => o.method === 'PATCH');
    expect(patched.map((o) => o.url).sort()).toEqual(allActuals.map((a) => `msdyn_actuals(${a.actualId})`).sort());
    expect(patched.every((o) => o.headers['if-match'] === '*' && o.status === 204)).toBe(true);
    expect(dv.records.rows('msdyn_actuals')).toHaveLength(allActuals.length);
    for (const [i, p] of proposals.entries()) {
      for (const a of p.actuals) {
        expect(dv.records.row('msdyn_actuals', a.actualId)).toMatchObject({
          msdyn_externalreferenceid: `VOU-WB-${i}`,
          msdyn_externalreferencedate: `2026-11-2${i}T12:00:00Z`,
          msdyn_accountingdate: `2026-11-2${i}T12:00:00Z`,
          msdyn_billingstatus: CUSTOMER_INVOICE_POSTED,
          msdyn_amount: Number(a.amount),
        });
      }
    }
  });

  it('the function writes through DATAVERSE_URL, and a redelivery of the same message changes nothing', async () => {
    process.env.DATAVERSE_URL = dv.url;
    resetSettings();
    const [one] = await new TableOutbound(rt.tables.localOutbound, QUEUES.accountingUpdates).read();
    const before = dv.records.row('msdyn_actuals', one!.body.actualId)!;
    const requests = dv.requests.length;
    await writeBackFunction.handler(JSON.stringify(one!.body), serviceBusContext(one!.messageId, 2));
    const { versionnumber: _a, ...after } = dv.records.row('msdyn_actuals', one!.body.actualId)!;
    const { versionnumber: _b, ...unchanged } = before;
    expect(after).toEqual(unchanged);
    expect(dv.requests).toHaveLength(requests + 1);
    expect(dv.records.rows('msdyn_actuals')).toHaveLength(allActuals.length);
  });
});
