import { afterEach, describe, expect, it } from 'vitest';
import { readSettings } from '../../shared/config';
import { tableClient } from '../../shared/storage/tables';
import { startLocalHost, type LocalHost } from '../../host/localHost';
import type { FunctionDefinition } from '../../shared/hosting/definition';
import { proposalWithActuals } from '../support/builders';
import { adminCall, spawnHost, until } from '../support/hostProcess';
import { testEnvironment } from '../support/runtime';

const ROOT = `${__dirname}/../..`;

describe('local host crash safety', () => {
  it('a host killed with SIGKILL mid-batch loses no accepted message and applies none twice once redelivered', async () => {
    const env = testEnvironment({ LOCAL_LOCK_DURATION_MS: '1500', LOCAL_REDELIVERY_DELAY_MS: '50', IMPORT_SCHEDULE: '0 0 0 1 1 *' });
    const proposals = Array.from({ length: 4 }, (_, i) => proposalWithActuals({ proposalId: `CRASH-${i}`, lines: 10 }));
    const messages = proposals.flatMap((p) => [
      { fn: 'syncInvoiceProposal', body: p.invoice },
      ...p.actuals.map((a) => ({ fn: 'syncActuals', body: a })),
    ]);

    let host = await spawnHost(env);
    const accepted = new Set<number>();
    let killed: Promise<unknown> | undefined;
    // Send the batch, a few at a time, and pull the plug once a dozen are acknowledged.
    const sends = messages.map(async (m, i) => {
      await new Promise((r) => setTimeout(r, i * 4));
      if (killed) return;
      try {
        if ((await adminCall(host.url, m.fn, m.body)).status === 202) accepted.add(i);
      } catch {
        /* the host died under this request */
      }
      if (accepted.size >= 12) killed ??= host.kill('SIGKILL');
    });
    await Promise.all(sends);
    await killed;
    expect(accepted.size).toBeGreaterThan(0);
    expect(accepted.size).toBeLessThan(messages.length); // the kill really happened mid-batch

    host = await spawnHost(env);
    try {
      // The sender retries what was not acknowledged, as Dataverse would.
      for (const [i, m] of messages.entries()) if (!accepted.has(i)) expect((await adminCall(host.url, m.fn, m.body)).status).toBe(202);
      await until('every queue drained', async () => {
        const queues = (await (await fetch(`${host.url}/admin/local/queues`)).json()) as Record<string, number>;
        return Object.values(queues).every((n) => n === 0);
      });
      expect((await adminCall(host.url, 'importFromStaging', '')).status).toBe(202);
      for (const p of proposals) {
        const view = await until(`${p.invoice.proposalId} lines`, async () => {
          const r = (await (await fetch(`${host.url}/api/invoice-proposals/usmf/${p.invoice.proposalId}`)).json()) as any;
          return r.status === 'LinesCreated' && r;
        });
        expect(view.lines.map((l: any) => l.actualId).sort()).toEqual(p.actuals.map((a) => a.actualId).sort());
      }
      expect((await (await fetch(`${host.url}/admin/local/dead-letters`)).json()) as any).toEqual([]);
      expect((await (await fetch(`${host.url}/admin/local/quarantine`)).json()) as any).toEqual([]); // no message took effect twice in conflict
    } finally {
      await host.kill();
    }
  });
});

describe('local dead-lettering', () => {
  let host: LocalHost | undefined;
  afterEach(async () => {
    await host?.stop();
  });

  it('a message that always fails reaches the dead-letter store after exactly the max delivery count, with its delivery history', async () => {
    let invocations = 0;
    const deliveryCounts: unknown[] = [];
    const alwaysFails: FunctionDefinition = {
      kind: 'serviceBus',
      name: 'alwaysFails',
      queueName: 'always-fails',
      connection: 'ServiceBusConnection',
      handler: async (_message, context) => {
        invocations++;
        deliveryCounts.push(context.triggerMetadata?.deliveryCount);
        throw new Error('storage is down');
      },
    };
    const env = testEnvironment({ LOCAL_MAX_DELIVERY_COUNT: '3', LOCAL_REDELIVERY_DELAY_MS: '20', PORT: '0' });
    host = await startLocalHost({ root: ROOT, env, extraFunctions: [alwaysFails], log: () => {} });

    const sent = await adminCall(host.url, 'alwaysFails', '{"poison": true}');
    expect(sent.status).toBe(202);
    const [dead] = await until('the dead letter', async () => {
      const list = (await (await fetch(`${host!.url}/admin/local/dead-letters?queue=always-fails`)).json()) as any[];
      return list.length > 0 && list;
    });
    await new Promise((r) => setTimeout(r, 200)); // nothing more is delivered after dead-lettering
    expect(invocations).toBe(3);
    expect(deliveryCounts).toEqual([1, 2, 3]);
    expect(dead).toMatchObject({
      messageId: sent.body.messageId,
      body: '{"poison": true}',
      deliveryCount: 3,
      deadLetterReason: 'MaxDeliveryCountExceeded: failed 3 deliveries',
    });
    expect(dead.history.map((h: any) => [h.deliveryCount, h.error])).toEqual([
      [1, 'Error: storage is down'],
      [2, 'Error: storage is down'],
      [3, 'Error: storage is down'],
    ]);
    expect((await (await fetch(`${host.url}/admin/local/queues`)).json()) as any).toMatchObject({ 'always-fails': 0 });
  });

  it('a timer run missed while the host was down runs at start-up with isPastDue', async () => {
    const seen: boolean[] = [];
    const nightly: FunctionDefinition = {
      kind: 'timer',
      name: 'nightly',
      scheduleSetting: 'IMPORT_SCHEDULE',
      handler: async (timer) => void seen.push(timer.isPastDue),
    };
    const env = testEnvironment({ PORT: '0', IMPORT_SCHEDULE: '0 0 3 * * *' });
    host = await startLocalHost({ root: ROOT, env, extraFunctions: [nightly], log: () => {} });
    await host.stop();
    // Pretend the host was down over the 03:00 run.
    const status = tableClient(readSettings(env), 'localTimers');
    const row = await status.getEntity('timer', 'nightly');
    await status.updateEntity({ partitionKey: 'timer', rowKey: 'nightly', next: new Date(Date.now() - 60_000).toISOString() }, 'Merge', {
      etag: row.etag,
    });
    host = await startLocalHost({ root: ROOT, env, extraFunctions: [nightly], log: () => {} });
    await until('the missed run', async () => seen.length > 0);
    expect(seen).toEqual([true]);
    const next = await until('re-armed', async () => {
      const row = await status.getEntity<{ next: string }>('timer', 'nightly');
      return Date.parse(row.next) > Date.now() && new Date(row.next);
    });
    expect([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).toEqual([3, 0, 0]); // the next 03:00
  });
});

describe('local timers', () => {
  let host: LocalHost | undefined;
  afterEach(async () => {
    await host?.stop();
  });

  it('a "run now" during a run is followed by one more run, never overlapping it; requests meanwhile share it', async () => {
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const slow: FunctionDefinition = {
      kind: 'timer',
      name: 'slowTimer',
      scheduleSetting: 'IMPORT_SCHEDULE',
      handler: async () => {
        const n = ++runs;
        events.push(`start ${n}`);
        if (n === 1) await gate;
        events.push(`end ${n}`);
      },
    };
    host = await startLocalHost({
      root: ROOT,
      env: testEnvironment({ PORT: '0', IMPORT_SCHEDULE: '0 0 0 1 1 *' }),
      extraFunctions: [slow],
      log: () => {},
    });
    await adminCall(host.url, 'slowTimer', '');
    await until('the first run', async () => events.includes('start 1'));
    await adminCall(host.url, 'slowTimer', '');
    await adminCall(host.url, 'slowTimer', '');
    release();
    await until('the follow-up run', async () => events.includes('end 2'));
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });
});
