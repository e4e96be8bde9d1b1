import { QUEUES } from '../../shared/queues';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalHost, type LocalHost } from '../../host/localHost';
import { readSettings } from '../../shared/config';
import type { FunctionDefinition } from '../../shared/hosting/definition';
import { flowControl } from '../../shared/operations/flowControl';
import { createTables, tableClient } from '../../shared/storage/tables';
import { TriggerSwitchRows } from '../../shared/storage/triggerSwitches';
import { proposalWithActuals } from '../support/builders';
import { adminCall, getJson as get, spawnHost, until, type HostProcess } from '../support/hostProcess';
import { testEnvironment } from '../support/runtime';

const ROOT = `${__dirname}/../..`;
describe('pausing the import (the real local host, import every second)', () => {
  let host: HostProcess;
  const env = testEnvironment({ IMPORT_SCHEDULE: '*/1 * * * * *', LOCAL_REDELIVERY_DELAY_MS: '50' });
  const settings = readSettings(env);
  const tables = createTables(settings);
  const control = flowControl(settings, tables);
  beforeAll(async () => {
    host = await spawnHost(env);
  });
  afterAll(async () => {
    await host?.kill();
  });

  it('leaves staged actuals in staging while paused, and creates the lines on resume by running the skipped import at once', async () => {
    const p = proposalWithActuals({ proposalId: 'PAUSE-IMP', lines: 12 });
    expect(await control.pause('import', 'month-end@contoso.example')).toMatchObject({ outcome: 'paused' });
    await until(
      'the host switched the import off',
      async () => host.output().includes('importFromStaging information: switched off'),
      5_000,
    );

    expect((await adminCall(host.url, 'syncInvoiceProposal', p.invoice)).status).toBe(202);
    for (const a of p.actuals) expect((await adminCall(host.url, 'syncActuals', a)).status).toBe(202);
    // The syncs' queues drain; the fast path's import requests wait in theirs, as the paused flow's work.
    await until('the actuals staged', async () =>
      Object.entries((await get(`${host.url}/admin/local/queues`)).body as Record<string, number>).every(
        ([queue, n]) => queue === QUEUES.importRequests || n === 0,
      ),
    );
    await until('a scheduled import skipped', async () => host.output().includes('importFromStaging information: scheduled run skipped'));
    await new Promise((r) => setTimeout(r, 1_200)); // and one more scheduled second, after the staging
    const waiting = await get(`${host.url}/api/invoice-proposals/usmf/PAUSE-IMP`);
    expect(waiting.body.status).not.toBe('LinesCreated');
    expect(waiting.body.lines ?? []).toHaveLength(0);
    // The staged work is in place: the local host hands syncActuals batches, so some actuals share a bundle row.
    const staged = new Set<string>();
    for await (const row of tables.staging.listEntities<{ json?: string; bundle?: string }>()) {
      if (row.json) staged.add((JSON.parse(row.json) as { actualId: string }).actualId);
      for (const a of row.bundle ? (JSON.parse(row.bundle) as { actualId: string }[]) : []) staged.add(a.actualId);
    }
    expect([...staged].sort()).toEqual(p.actuals.map((a) => a.actualId).sort());

    const resumedAt = Date.now();
    expect(await control.resume('import', 'month-end@contoso.example')).toMatchObject({ outcome: 'resumed' });
    const view = await until('the lines after resume', async () => {
      const r = await get(`${host.url}/api/invoice-proposals/usmf/PAUSE-IMP`);
      return r.body?.status === 'LinesCreated' && r.body;
    });
    expect(view.lines).toHaveLength(12);
    expect(Date.now() - resumedAt).toBeLessThan(5_000);
    expect(host.output()).toContain(
      'importFromStaging information: switched on again after skipping a scheduled run; running now (isPastDue)',
    );
    expect((await get(`${host.url}/admin/local/quarantine`)).body).toEqual([]);
  });
});

describe('a switch flipped while a message is being processed', () => {
  let host: LocalHost | undefined;
  afterEach(async () => {
    await host?.stop();
  });

  it('lets that message finish and complete, receives nothing more until switched on, and abandons nothing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done: string[] = [];
    const deliveries: unknown[] = [];
    const slow: FunctionDefinition = {
      kind: 'serviceBus',
      name: 'slowBooking',
      queueName: 'slow-bookings',
      connection: 'ServiceBusConnection',
      handler: async (message, context) => {
        deliveries.push(context.triggerMetadata?.deliveryCount);
        if ((message as { n: number }).n === 1) await gate;
        done.push(`m${(message as { n: number }).n}`);
      },
    };
    const lines: string[] = [];
    const env = testEnvironment({ PORT: '0', IMPORT_SCHEDULE: '0 0 0 1 1 *' });
    host = await startLocalHost({ root: ROOT, env, extraFunctions: [slow], log: (_l, fn, m) => void lines.push(`${fn}: ${m}`) });
    const switches = new TriggerSwitchRows(tableClient(readSettings(env), 'localTriggerSwitches'));

    expect((await adminCall(host.url, 'slowBooking', { n: 1 })).status).toBe(202);
    await until('the first message in its function', async () => deliveries.length === 1);
    await switches.write({ slowBooking: true }, new Date());
    await until('the switch seen', async () => lines.some((l) => l.startsWith('slowBooking: switched off')), 5_000);
    expect((await adminCall(host.url, 'slowBooking', { n: 2 })).status).toBe(202);
    release();
    await until('the first message completed', async () => (await get(`${host!.url}/admin/local/queues`)).body['slow-bookings'] === 1);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(done).toEqual(['m1']);

    await switches.write({ slowBooking: false }, new Date());
    await until('the second message after switching on', async () => done.length === 2);
    expect(done).toEqual(['m1', 'm2']);
    expect(deliveries).toEqual([1, 1]); // each delivered once: nothing abandoned or redelivered because of the switch
    expect((await get(`${host.url}/admin/local/dead-letters`)).body).toEqual([]);
  });
});
