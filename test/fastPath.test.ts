/**
 * The import fast path (docs/design.md#import-fast-path): a proposal gets its lines right after its last
 * billed sales actual, or its header, is staged, without waiting for the scheduled import. Service Bus is
 * stood in by ImportRequestQueue (duplicate detection; the test says when a request's window has closed).
 * Storage operations are counted exactly by the bench's pipeline policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestCounter } from '../bench/support';
import importProposalFunction from '../functions/importProposal';
import { readSettings, resetSettings } from '../shared/config';
import type { OutboundMessage } from '../shared/messaging/accountingUpdates';
import { importRequestMessage, IMPORT_REQUEST_SETTLE_MS, IMPORT_REQUEST_WINDOW_MS } from '../shared/messaging/importRequests';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import { importRequested } from '../shared/pipeline/importRequest';
import { readProposal } from '../shared/pipeline/readModels';
import { QUEUES } from '../shared/queues';
import { createRuntime, useRuntime, type Runtime } from '../shared/runtime';
import { proposalWithActuals, serviceBusContext } from './support/builders';
import { ImportRequestQueue } from './support/importRequests';
import { adminCall, spawnHost, until } from './support/hostProcess';
import { actualMessage, deliver, dropTables, headerMessage, quiet, snapshot, type Message } from './support/reliability';
import { testEnvironment } from './support/runtime';

const sender = { send: async (_: readonly OutboundMessage[]) => {} };

/** A runtime whose import requests go to `queue`; deliver() (test/support/reliability.ts) hands them over after each delivery. */
async function fastPathRuntime(queue: ImportRequestQueue | undefined, extra: Record<string, string> = {}, counter?: RequestCounter) {
  return createRuntime(readSettings(testEnvironment(extra)), {
    sender,
    ...(queue ? { importRequests: queue } : {}),
    ...(counter ? { storage: { additionalPolicies: [{ policy: counter.policy(), position: 'perCall' as const }] } } : {}),
  });
}

const request = (legalEntity: string, proposalId: string) => ({
  source: QUEUES.importRequests,
  messageId: `req-${proposalId}`,
  body: JSON.stringify({ legalEntity, proposalId }),
});

describe('import fast path: lines seconds after the last actual, without the scheduled import (Service Bus stood in by memory)', () => {
  const queue = new ImportRequestQueue();
  const counter = new RequestCounter();
  let rt: Runtime;
  beforeAll(async () => {
    rt = await fastPathRuntime(queue, {}, counter);
  });
  afterAll(async () => {
    if (rt) await dropTables(rt);
  });

  it('the header first: the proposal waits through 9 of 10 actuals and has its 10 lines right after the 10th, nothing left staged', async () => {
    const p = proposalWithActuals({ proposalId: 'FAST-1', lines: 10 });
    await deliver(rt, headerMessage(p.invoice));
    for (const a of p.actuals.slice(0, 9)) await deliver(rt, actualMessage(a));
    expect(await readProposal(rt, 'usmf', 'FAST-1')).toMatchObject({ status: 'AwaitingLines', lines: [] });
    await deliver(rt, actualMessage(p.actuals[9]!));
    const view = (await readProposal(rt, 'usmf', 'FAST-1'))!;
    expect(view).toMatchObject({ status: 'LinesCreated', reason: null });
    expect(view.lines.map((l) => l.actualId).sort()).toEqual(p.actuals.map((a) => a.actualId).sort());
    expect((await snapshot(rt)).staging.filter((r) => r.rowKey.includes('FAST-1'))).toEqual([]);
    expect(queue.failures).toEqual([]);
  });

  it('the header last: its own delivery asks for the import, and the proposal has its lines', async () => {
    const p = proposalWithActuals({ proposalId: 'FAST-2', lines: 4 });
    for (const a of p.actuals) await deliver(rt, actualMessage(a));
    expect(await readProposal(rt, 'usmf', 'FAST-2')).toBeUndefined();
    await deliver(rt, headerMessage(p.invoice));
    expect(await readProposal(rt, 'usmf', 'FAST-2')).toMatchObject({
      status: 'LinesCreated',
      transactionCount: 4,
      lines: expect.any(Array),
    });
    expect((await readProposal(rt, 'usmf', 'FAST-2'))!.lines).toHaveLength(4);
  });

  it('the header last after a scheduled run parked the actuals: the request reads the partition and imports', async () => {
    const p = proposalWithActuals({ proposalId: 'FAST-3', lines: 3 });
    for (const a of p.actuals) await deliver(rt, actualMessage(a));
    await importFromStaging(rt, quiet); // parks them: nothing staged for FAST-3 but the header's flag, later
    await deliver(rt, headerMessage(p.invoice));
    expect((await readProposal(rt, 'usmf', 'FAST-3'))!.lines).toHaveLength(3);
  });

  it('a wrong last actual puts the proposal in Error at once, with the reason the scheduled import would give', async () => {
    const p = proposalWithActuals({ proposalId: 'FAST-4', lines: 2 });
    await deliver(rt, headerMessage(p.invoice));
    await deliver(rt, actualMessage(p.actuals[0]!));
    await deliver(rt, actualMessage({ ...p.actuals[1]!, amount: '1.00', price: '1.00', quantity: '1' }));
    expect(await readProposal(rt, 'usmf', 'FAST-4')).toMatchObject({ status: 'Error', reason: expect.stringMatching(/^amount mismatch/) });
  });

  it('a request for an incomplete proposal changes nothing and costs one query and one point read (is anything parked?)', async () => {
    const p = proposalWithActuals({ proposalId: 'FAST-5', lines: 10 });
    await deliver(rt, headerMessage(p.invoice));
    for (const a of p.actuals.slice(0, 7)) await deliver(rt, actualMessage(a));
    const before = await snapshot(rt);
    counter.reset();
    expect(await importRequested(rt, request('usmf', 'FAST-5'), quiet)).toMatchObject({ kind: 'ignored' });
    expect({ requests: counter.total, entityOperations: counter.entityOperations }).toEqual({ requests: 2, entityOperations: 9 });
    expect(await snapshot(rt)).toEqual(before);
  });

  it('a duplicate request is harmless: nothing staged any more, one query that returns nothing', async () => {
    const before = await snapshot(rt);
    counter.reset();
    expect(await importRequested(rt, request('usmf', 'FAST-1'), quiet)).toMatchObject({ kind: 'duplicate' });
    expect({ requests: counter.total, entityOperations: counter.entityOperations }).toEqual({ requests: 1, entityOperations: 0 });
    expect(await snapshot(rt)).toEqual(before);
  });

  it('a malformed request is quarantined naming the field, and nothing is imported', async () => {
    const outcome = await importRequested(rt, { ...request('usmf', 'x'), body: '{"legalEntity":"usmf"}' }, quiet);
    expect(outcome).toMatchObject({ kind: 'quarantined', detail: expect.stringContaining('proposalId') });
  });
});

describe('import fast path off (IMPORT_FAST_PATH=false): lines only on the schedule', () => {
  const saved = { ...process.env };
  let rt: Runtime | undefined;
  afterAll(async () => {
    process.env = saved;
    resetSettings();
    useRuntime(undefined);
    if (rt) await dropTables(rt);
  });

  it('sends no import request: the complete proposal waits for the scheduled import', async () => {
    const queue = new ImportRequestQueue();
    rt = await fastPathRuntime(queue, { IMPORT_FAST_PATH: 'false' });
    expect(rt.importRequests).toBeUndefined();
    const p = proposalWithActuals({ proposalId: 'OFF-1', lines: 3 });
    for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)] as Message[]) await deliver(rt, m);
    expect(queue.stats.sent).toBe(0);
    expect(await readProposal(rt, 'usmf', 'OFF-1')).toMatchObject({ status: 'AwaitingLines', lines: [] });
    await importFromStaging(rt, quiet);
    expect(await readProposal(rt, 'usmf', 'OFF-1')).toMatchObject({ status: 'LinesCreated' });
  });

  it('the importProposal function completes a request still queued from before, and imports nothing', async () => {
    const env = testEnvironment({ IMPORT_FAST_PATH: 'false' });
    Object.assign(process.env, env);
    resetSettings();
    const off = await createRuntime(readSettings(env), { sender });
    useRuntime(off);
    try {
      const p = proposalWithActuals({ proposalId: 'OFF-2', lines: 2 });
      for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)] as Message[]) await deliver(off, m);
      const message = importRequestMessage({ legalEntity: 'usmf', proposalId: 'OFF-2' }, new Date());
      await importProposalFunction.handler(message.body, serviceBusContext(message.messageId));
      expect(await readProposal(off, 'usmf', 'OFF-2')).toMatchObject({ status: 'AwaitingLines' });

      process.env.IMPORT_FAST_PATH = 'true';
      resetSettings();
      await importProposalFunction.handler(message.body, serviceBusContext(message.messageId));
      expect(await readProposal(off, 'usmf', 'OFF-2')).toMatchObject({ status: 'LinesCreated' });
    } finally {
      await dropTables(off);
    }
  });

  it('refuses a value that is not on or off, naming the setting', () => {
    expect(() => readSettings({ ...testEnvironment(), IMPORT_FAST_PATH: 'sometimes' })).toThrow(
      /IMPORT_FAST_PATH: must be "true" or "false"/,
    );
  });
});

describe('import requests: one per proposal and window, delivered after the window', () => {
  it('every delivery within one window asks under the same message id, for the end of the window plus a margin', () => {
    const start = new Date(Math.ceil(Date.now() / IMPORT_REQUEST_WINDOW_MS) * IMPORT_REQUEST_WINDOW_MS);
    const first = importRequestMessage({ legalEntity: 'usmf', proposalId: 'P' }, start);
    const last = importRequestMessage({ legalEntity: 'usmf', proposalId: 'P' }, new Date(start.getTime() + IMPORT_REQUEST_WINDOW_MS - 1));
    const next = importRequestMessage({ legalEntity: 'usmf', proposalId: 'P' }, new Date(start.getTime() + IMPORT_REQUEST_WINDOW_MS));
    const other = importRequestMessage({ legalEntity: 'usmf', proposalId: 'Q' }, start);
    expect(last.messageId).toBe(first.messageId);
    expect(last.at.getTime()).toBe(start.getTime() + IMPORT_REQUEST_WINDOW_MS + IMPORT_REQUEST_SETTLE_MS);
    expect(next.messageId).not.toBe(first.messageId);
    expect(other.messageId).not.toBe(first.messageId);
  });
});

describe('import fast path: what it adds to a 10-line invoice, in storage operations (counted exactly)', () => {
  it('header first, all actuals in one window: the syncs cost what they did, and the one request imports it with the entity operations the scheduled run spends on it', async () => {
    const counter = new RequestCounter();
    const held = new ImportRequestQueue({ eager: false }); // delivered when the test says the window closed
    const rt = await fastPathRuntime(held, {}, counter);
    const cost = () => ({ requests: counter.total, entityOperations: counter.entityOperations });
    try {
      const fast = proposalWithActuals({ proposalId: 'OPS-FAST', lines: 10 });
      counter.reset();
      // One window: the clock stands still, so a slow machine cannot spread the deliveries over two seconds.
      const clock = rt.now;
      const inOneSecond = clock();
      rt.now = () => inOneSecond;
      for (const m of [headerMessage(fast.invoice), ...fast.actuals.map(actualMessage)]) await deliver(rt, m);
      rt.now = clock;
      // Register 1 + staged row 1 per actual, header 1 + its flag 1 + its state index entry 1: the sends are Service Bus, not storage.
      expect(cost()).toEqual({ requests: 23, entityOperations: 23 });
      expect(held.stats).toMatchObject({ sent: 11, dropped: 10 }); // one window, one request
      counter.reset();
      await held.deliverAll(rt, quiet);
      // The proposal's 11 staged rows in one query; the state index's LinesCreated entry; one transaction: held marker,
      // one page of the 10 lines carrying the actuals, header; the AwaitingLines entry removed; one transaction deleting
      // the 11 staged rows.
      expect(cost()).toEqual({ requests: 5, entityOperations: 27 });
      expect(await readProposal(rt, 'usmf', 'OPS-FAST')).toMatchObject({ status: 'LinesCreated' });

      // The same invoice left to the scheduled run: the same 27 entity operations in the same 5 requests (its staged rows
      // in one query over the shards instead of one in the proposal's shard).
      const slow = proposalWithActuals({ proposalId: 'OPS-SLOW', lines: 10 });
      rt.importRequests = undefined;
      for (const m of [headerMessage(slow.invoice), ...slow.actuals.map(actualMessage)]) await deliver(rt, m);
      counter.reset();
      await importFromStaging(rt, quiet);
      expect(cost()).toEqual({ requests: 5, entityOperations: 27 });
      expect(await readProposal(rt, 'usmf', 'OPS-SLOW')).toMatchObject({ status: 'LinesCreated' });
    } finally {
      await dropTables(rt);
    }
  });
});

describe('import fast path through the local host (its import-requests queue stands for Service Bus)', () => {
  it('a proposal answers LinesCreated seconds after the admin call that delivers its last actual, with the scheduled import months away', async () => {
    const host = await spawnHost(testEnvironment({ IMPORT_SCHEDULE: '0 0 0 1 1 *', LOCAL_REDELIVERY_DELAY_MS: '50' }));
    try {
      const p = proposalWithActuals({ proposalId: 'HOST-FAST', lines: 5 });
      expect((await adminCall(host.url, 'syncInvoiceProposal', p.invoice)).status).toBe(202);
      for (const a of p.actuals) expect((await adminCall(host.url, 'syncActuals', a)).status).toBe(202);
      const started = Date.now();
      const view = await until('lines from the fast path', async () => {
        const body = (await (await fetch(`${host.url}/api/invoice-proposals/usmf/HOST-FAST`)).json()) as {
          status?: string;
          lines?: unknown[];
        };
        return body.status === 'LinesCreated' && body;
      });
      expect(view.lines).toHaveLength(5);
      expect(Date.now() - started).toBeLessThan(15_000);
      // The function logs once its invocation ends, after the commit that the GET already shows.
      await until('the fast path saying so', async () => /importProposal information: .*LinesCreated/.test(host.output()));
    } finally {
      await host.kill();
    }
  });
});
