import { odata } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../shared/config';
import { flowControl } from '../../shared/operations/flowControl';
import { createTables, tableClient } from '../../shared/storage/tables';
import { proposalWithActuals } from '../support/builders';
import { adminCall, getJson as get, spawnHost, until, type HostProcess } from '../support/hostProcess';
import { testEnvironment } from '../support/runtime';

describe('pause and resume under load (the real local host)', () => {
  let host: HostProcess;
  const env = testEnvironment({ IMPORT_SCHEDULE: '0 0 0 1 1 *', LOCAL_REDELIVERY_DELAY_MS: '50' });
  const settings = readSettings(env);
  const control = flowControl(settings, createTables(settings));
  beforeAll(async () => {
    host = await spawnHost(env);
  });
  afterAll(async () => {
    await host?.kill();
  });

  it('actuals sent while actual sync is paused wait in the queue untouched, none dead-lettered, and are all applied after resume', async () => {
    const proposals = Array.from({ length: 4 }, (_, i) => proposalWithActuals({ proposalId: `PAUSE-${i}`, lines: 50 }));
    const actuals = proposals.flatMap((p) => p.actuals);
    expect(actuals).toHaveLength(200);

    const paused = await control.pause('actual-sync', 'ops@contoso.example');
    expect(paused).toMatchObject({ outcome: 'paused', flow: { flow: 'actual-sync', paused: true, by: 'ops@contoso.example' } });
    await until('the host switched syncActuals off', async () => host.output().includes('syncActuals information: switched off'), 5_000);

    for (const p of proposals) expect((await adminCall(host.url, 'syncInvoiceProposal', p.invoice)).status).toBe(202);
    for (let i = 0; i < actuals.length; i += 20)
      await Promise.all(actuals.slice(i, i + 20).map(async (a) => expect((await adminCall(host.url, 'syncActuals', a)).status).toBe(202)));

    // Two more polls of the switch and of the queue: still nothing received.
    await new Promise((r) => setTimeout(r, 2_500));
    const waiting = [];
    for await (const m of tableClient(settings, 'localMessages').listEntities<{ deliveryCount: number }>({
      queryOptions: { filter: odata`PartitionKey eq ${'project-actuals'}` },
    }))
      waiting.push(m.deliveryCount);
    expect(waiting).toHaveLength(200);
    expect(waiting.every((n) => n === 0)).toBe(true); // never delivered, so no delivery counted towards dead-lettering
    expect((await get(`${host.url}/api/actuals/usmf/${encodeURIComponent(actuals[0]!.actualId)}`)).status).toBe(404);
    expect((await get(`${host.url}/admin/local/dead-letters`)).body).toEqual([]);
    expect((await control.flows()).find((f) => f.flow === 'actual-sync')).toMatchObject({ paused: true, since: expect.any(String) });

    expect(await control.resume('actual-sync', 'ops@contoso.example')).toMatchObject({ outcome: 'resumed', flow: { paused: false } });
    await until(
      'the actuals queue drained',
      async () => ((await get(`${host.url}/admin/local/queues`)).body as Record<string, number>)['project-actuals'] === 0,
      45_000, // generous: on a loaded machine 200 deliveries take a while
    );
    const applied = await Promise.all(
      actuals.map(async (a) => (await get(`${host.url}/api/actuals/usmf/${encodeURIComponent(a.actualId)}`)).status),
    );
    expect(applied.filter((s) => s === 200)).toHaveLength(200);
    expect((await get(`${host.url}/admin/local/dead-letters`)).body).toEqual([]);
    expect((await get(`${host.url}/admin/local/quarantine`)).body).toEqual([]);
    expect(host.output()).toContain('syncActuals information: switched on again');
  });
});
