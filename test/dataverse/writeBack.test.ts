import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActualUpdates, TransientDataverseError } from '../../shared/dataverse/actualUpdates';
import { writeBackAccounting } from '../../shared/pipeline/writeBackAccounting';
import type { Delivery } from '../../shared/pipeline/inbound';
import { QUEUES } from '../../shared/queues';
import type { Runtime } from '../../shared/runtime';
import { silentLog, testRuntime } from '../support/runtime';
import { startDataverseSimulator, type DataverseSimulator } from './simulator/server';

const actualId = (n: number) => `ac000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const BILLED = 192350002; // msdyn_billingstatus "Customer Invoice Posted", set by Project Operations, never by us

function accountingUpdate(n: number, overrides: Record<string, unknown> = {}) {
  return {
    actualId: actualId(n),
    legalEntity: 'usmf',
    proposalId: 'PINV-000001',
    invoiceId: 'inv00000-0000-4000-8000-000000000001',
    billingStatus: 'CustomerInvoicePosted',
    customerInvoiceId: 'CIV-000777',
    voucher: 'VOU-000555',
    accountingDate: '2026-11-21',
    accountingCurrency: 'USD',
    exchangeRate: '1.0825',
    accountingAmount: '100.00',
    salesTaxAmount: '8.25',
    ...overrides,
  };
}
const delivery = (body: unknown, messageId = `acct-${Math.random().toString(16).slice(2)}`): Delivery => ({
  source: QUEUES.accountingUpdates,
  messageId,
  body: JSON.stringify(body),
});

let rt: Runtime;
let dv: DataverseSimulator;
const seeded = [1, 2, 3, 4, 5].map((n) => actualId(n));

beforeAll(async () => {
  rt = await testRuntime();
});
beforeEach(async () => {
  dv = await startDataverseSimulator({
    seed: { msdyn_actuals: seeded.map((id) => ({ msdyn_actualid: id, msdyn_billingstatus: BILLED, exchangerate: 1, msdyn_amount: 100 })) },
  });
});
afterEach(() => dv.close());

const patches = () => dv.operations.filter((o) => o.method === 'PATCH');
const row = (n: number) => dv.records.row('msdyn_actuals', actualId(n))!;

describe('accounting write-back (Dataverse Web API stand-in)', () => {
  it('updates every posted actual exactly once with its voucher and accounting date, in $batch requests', async () => {
    const outcomes = await writeBackAccounting(
      rt,
      new ActualUpdates({ serverUrl: dv.url }),
      [1, 2, 3, 4, 5].map((n) => delivery(accountingUpdate(n))),
      silentLog,
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
    expect(dv.requests.map((r) => [r.method, r.url, r.status])).toEqual([['POST', '$batch', 200]]);
    expect(patches().map((p) => [p.url, p.via, p.status])).toEqual(seeded.map((id) => [`msdyn_actuals(${id})`, 'batch', 204]));
    for (const n of [1, 2, 3, 4, 5]) {
      expect(row(n)).toMatchObject({
        msdyn_externalreferenceid: 'VOU-000555',
        msdyn_externalreferencedate: '2026-11-21T12:00:00Z',
        msdyn_accountingdate: '2026-11-21T12:00:00Z',
        msdyn_billingstatus: BILLED, // untouched: Project Operations owns it
        exchangerate: 1, // untouched: read-only, Dataverse derives it from the currency
      });
    }
  });

  it('creates no record: every PATCH carries If-Match: * and the number of actuals stays the same', async () => {
    await writeBackAccounting(
      rt,
      new ActualUpdates({ serverUrl: dv.url }),
      [1, 2, 3].map((n) => delivery(accountingUpdate(n))),
      silentLog,
    );
    expect(patches()).toHaveLength(3);
    expect(patches().every((p) => p.headers['if-match'] === '*')).toBe(true);
    expect(dv.records.rows('msdyn_actuals')).toHaveLength(seeded.length);
    expect(dv.requests[0]!.headers.prefer).toContain('odata.continue-on-error');
  });

  it('reports an actual missing in Dataverse, with the reason, and still writes the others', async () => {
    const missing = accountingUpdate(99);
    const outcomes = await writeBackAccounting(
      rt,
      new ActualUpdates({ serverUrl: dv.url }),
      [delivery(accountingUpdate(1)), delivery(missing, 'acct-missing'), delivery(accountingUpdate(3))],
      silentLog,
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['applied', 'quarantined', 'applied']);
    expect(outcomes[1]!.detail).toMatch(new RegExp(`msdyn_actual ${actualId(99)} .* is not in Dataverse .*HTTP 404 0x80040217`));
    expect(row(1).msdyn_externalreferenceid).toBe('VOU-000555');
    expect(row(3).msdyn_externalreferenceid).toBe('VOU-000555');
    expect(dv.records.row('msdyn_actuals', actualId(99))).toBeUndefined();
    expect(dv.records.rows('msdyn_actuals')).toHaveLength(seeded.length);
    const kept = (await rt.quarantine.list(QUEUES.accountingUpdates)).find((q) => q.messageId === 'acct-missing');
    expect(kept?.reason).toContain('is not in Dataverse');
    expect(JSON.parse(kept!.raw)).toEqual(missing);
  });

  it('changes nothing when an update is delivered again', async () => {
    const actuals = new ActualUpdates({ serverUrl: dv.url });
    await writeBackAccounting(rt, actuals, [delivery(accountingUpdate(2))], silentLog);
    const columns = (n: number) => {
      const { versionnumber: _, ...rest } = row(n); // Dataverse's row version moves on any update
      return rest;
    };
    const first = columns(2);
    const again = await writeBackAccounting(rt, actuals, [delivery(accountingUpdate(2)), delivery(accountingUpdate(2))], silentLog);
    expect(again.map((o) => o.kind)).toEqual(['applied', 'applied']);
    expect(columns(2)).toEqual(first);
    expect(dv.records.rows('msdyn_actuals')).toHaveLength(seeded.length);
    expect(patches()).toHaveLength(2); // the resend within one call went out once
  });

  it('honours 429 and Retry-After: no request is sent before the time it named', async () => {
    dv.throttleNext(1, { retryAfterSeconds: 1 });
    const outcomes = await writeBackAccounting(
      rt,
      new ActualUpdates({ serverUrl: dv.url }),
      [1, 2].map((n) => delivery(accountingUpdate(n))),
      silentLog,
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['applied', 'applied']);
    const [limited, retried, ...rest] = dv.requests;
    expect([limited!.status, retried!.status, rest.length]).toEqual([429, 200, 0]);
    expect(retried!.time - limited!.time).toBeGreaterThanOrEqual(1000);
    expect(patches().map((p) => p.url)).toEqual([1, 2].map((n) => `msdyn_actuals(${actualId(n)})`));
  });

  it('gives the messages back to Service Bus when Retry-After is longer than it may wait, without sending early', async () => {
    dv.throttleNext(1, { retryAfterSeconds: 3 });
    const actuals = new ActualUpdates({ serverUrl: dv.url, maxThrottleWaitMs: 500 });
    await expect(writeBackAccounting(rt, actuals, [delivery(accountingUpdate(1))], silentLog)).rejects.toThrow(TransientDataverseError);
    await expect(writeBackAccounting(rt, actuals, [delivery(accountingUpdate(1))], silentLog)).rejects.toThrow(
      /Retry-After asks for 3 s more/,
    );
    expect(dv.requests).toHaveLength(1); // the redelivery waited at the gate instead of asking again
    expect(row(1).msdyn_externalreferenceid).toBeUndefined();
  });

  it('splits many updates into $batch requests of at most the batch size', async () => {
    const many = Array.from({ length: 250 }, (_, i) => actualId(100 + i));
    dv.records.seed(
      'msdyn_actuals',
      many.map((id) => ({ msdyn_actualid: id })),
    );
    const outcomes = await writeBackAccounting(
      rt,
      new ActualUpdates({ serverUrl: dv.url, batchSize: 100 }),
      many.map((_, i) => delivery(accountingUpdate(100 + i))),
      silentLog,
    );
    expect(outcomes.every((o) => o.kind === 'applied')).toBe(true);
    expect(dv.requests.map((r) => r.url)).toEqual(['$batch', '$batch', '$batch']);
    expect(new Set(patches().map((p) => p.url)).size).toBe(250);
    expect(patches()).toHaveLength(250);
  });

  it('quarantines an update that breaks its contract, naming the field, and writes nothing for it', async () => {
    const outcomes = await writeBackAccounting(
      rt,
      new ActualUpdates({ serverUrl: dv.url }),
      [delivery(accountingUpdate(1, { actualId: 'PINV-1-act-1' })), delivery(accountingUpdate(2, { accountingDate: '21.11.2026' }))],
      silentLog,
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['quarantined', 'quarantined']);
    expect(outcomes[0]!.detail).toBe('actualId: must be a Dataverse row id (a GUID) to be written back');
    expect(outcomes[1]!.detail).toMatch(/^accountingDate: /);
    expect(dv.requests).toHaveLength(0);
  });
});

describe('accounting write-back when Dataverse fails (Dataverse Web API stand-in)', () => {
  let failing: ReturnType<typeof createServer>;
  let failingUrl: string;
  beforeAll(async () => {
    failing = createServer((_req, res) => {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: '0x80040216', message: 'An unexpected error occurred.' } }));
    });
    failing.listen(0, '127.0.0.1');
    await once(failing, 'listening');
    failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => failing.close(() => resolve())));

  it('throws on a 5xx, so Service Bus redelivers; nothing is quarantined', async () => {
    const before = (await rt.quarantine.list(QUEUES.accountingUpdates)).length;
    await expect(
      writeBackAccounting(rt, new ActualUpdates({ serverUrl: failingUrl }), [delivery(accountingUpdate(1))], silentLog),
    ).rejects.toThrow(/HTTP 503/);
    expect((await rt.quarantine.list(QUEUES.accountingUpdates)).length).toBe(before);
  });

  it('throws when Dataverse does not answer at all', async () => {
    const closed = await startDataverseSimulator();
    const url = closed.url;
    await closed.close();
    await expect(
      writeBackAccounting(rt, new ActualUpdates({ serverUrl: url }), [delivery(accountingUpdate(1))], silentLog),
    ).rejects.toThrow(/no answer from the Web API/);
  });
});
