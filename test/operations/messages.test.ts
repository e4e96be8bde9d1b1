/**
 * The operations on quarantined and dead-lettered messages (shared/operations/messages.ts)
 * against Azurite: the list pages, and retry applies each message at most once,
 * onto the local host's queue table when no Service Bus is configured.
 */
import type { ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import { odata, type TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestCounter } from '../../bench/support';
import { LocalQueues } from '../../host/localQueues';
import { readSettings, type Settings } from '../../shared/config';
import type { ServiceBusPort } from '../../shared/messaging/deadLetters';
import { readMessage, type QueueRow } from '../../shared/messaging/localQueueRows';
import { createMessageOperations, PageTokenError, type MessageOperations } from '../../shared/operations/messages';
import { QuarantineStore } from '../../shared/storage/quarantine';
import { tableClient } from '../../shared/storage/tables';
import { actual } from '../support/builders';
import { spawnHost, until, type HostProcess } from '../support/hostProcess';
import { testEnvironment } from '../support/runtime';

const NOW = new Date('2026-11-30T09:00:00Z');

async function tables(s: Settings, ...names: string[]): Promise<TableClient[]> {
  const clients = names.map((n) => tableClient(s, n));
  await Promise.all(clients.map((t) => t.createTable()));
  return clients;
}

/** The messages on one local queue, as the host's pump would deliver them. */
async function onLocalQueue(messages: TableClient, queue: string) {
  const out = [];
  for await (const e of messages.listEntities<QueueRow>({ queryOptions: { filter: odata`PartitionKey eq ${queue}` } }))
    out.push(readMessage(e));
  return out;
}

async function allPages(ops: MessageOperations, query: Parameters<MessageOperations['list']>[0]) {
  const pages = [];
  let pageToken: string | undefined;
  do {
    const page = await ops.list({ ...query, pageToken });
    pages.push(page.items);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return pages;
}

describe('operations on messages, no Service Bus configured (Azurite; retries go onto the local queue table)', () => {
  let s: Settings;
  let quarantine: QuarantineStore;
  let messages: TableClient;
  let localQueues: LocalQueues;
  let ops: MessageOperations;
  const counter = new RequestCounter();
  const ids: string[] = [];
  let valid: string;
  let invalid: string;
  let deadLetter: string;

  beforeAll(async () => {
    s = readSettings(testEnvironment());
    const [q, m, d, o] = await tables(s, 'quarantine', 'localMessages', 'localDeadLetters', 'quarantineOpen');
    quarantine = new QuarantineStore(q!, o!);
    messages = m!;
    localQueues = new LocalQueues(m!, d!, { maxDeliveryCount: 1, lockMs: 60_000, redeliveryDelayMs: 0, now: () => NOW });
    ({ operations: ops } = createMessageOperations(s, {
      now: () => NOW,
      storage: { additionalPolicies: [{ policy: counter.policy(), position: 'perCall' }] },
    }));
    // Five quarantined actuals: one valid (refused by a rule since fixed), four that break the contract.
    valid = await quarantine.keep({
      source: 'import-from-staging',
      messageId: 'm-valid',
      reason: 'its proposal was posted before it arrived',
      raw: JSON.stringify(actual({ actualId: 'OPS-VALID' })),
      now: NOW,
    });
    ids.push(valid);
    for (let i = 0; i < 4; i++) {
      const id = await quarantine.keep({
        source: 'project-actuals',
        messageId: `m-${i}`,
        reason: 'amount: expected a decimal string',
        raw: JSON.stringify({ ...actual({ actualId: `OPS-BAD-${i}` }), amount: 12.5 }),
        now: NOW,
      });
      ids.push(id);
    }
    invalid = ids[1]!;
    // One local dead letter: an actual whose one allowed delivery failed.
    await localQueues.enqueue('project-actuals', JSON.stringify(actual({ actualId: 'OPS-DEAD' })), 'm-dead');
    const [delivery] = await localQueues.receive('project-actuals', 1);
    expect(await localQueues.abandon(delivery!, 'Error: storage is down')).toBe('deadLettered');
  });
  afterAll(async () => {
    await Promise.all(
      ['quarantine', 'quarantineOpen', 'localMessages', 'localDeadLetters', 'messageRetries'].map((n) =>
        tableClient(s, n)
          .deleteTable()
          .catch(() => {}),
      ),
    );
  });

  it('lists the quarantine page by page, each page reading only its own rows, every message once', async () => {
    // The open index is built once per deployment, on its first use (test/quarantineOpen.test.ts): pages are measured after.
    await quarantine.countOpen();
    counter.entitiesRead.clear();
    const first = await ops.list({ kind: 'quarantined', pageSize: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextPageToken).toEqual(expect.any(String));
    expect([...counter.entitiesRead.values()].reduce((a, b) => a + b, 0)).toBe(2);

    const pages = await allPages(ops, { kind: 'quarantined', pageSize: 2 });
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(
      pages
        .flat()
        .map((m) => m.id)
        .sort(),
    ).toEqual([...ids].sort());
    expect(pages.flat().find((m) => m.id === valid)).toEqual({
      id: valid,
      kind: 'quarantined',
      source: 'import-from-staging',
      reason: 'its proposal was posted before it arrived',
      receivedAt: NOW.toISOString(),
      retriedAt: null,
      retriedBy: null,
      preview: expect.stringMatching(/^\{"actualId":"OPS-VALID".{150,}…$/),
    });
  });

  it('lists the local dead letters with their last error', async () => {
    const [page] = await allPages(ops, { kind: 'dead-lettered' });
    expect(page).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(/^ldl-[0-9a-f]{28}$/),
        kind: 'dead-lettered',
        source: 'project-actuals',
        reason: 'MaxDeliveryCountExceeded: failed 1 deliveries; last error: Error: storage is down',
        retriedAt: null,
      }),
    ]);
    deadLetter = page![0]!.id;
  });

  it('a malformed or stale page token is a PageTokenError naming the field pageToken', async () => {
    const caught = async (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      );
    const malformed = await caught(ops.list({ kind: 'quarantined', pageToken: 'not a token!' }));
    expect(malformed).toBeInstanceOf(PageTokenError);
    expect(malformed).toMatchObject({ field: 'pageToken', reason: 'malformed' });

    const quarantinedToken = (await ops.list({ kind: 'quarantined', pageSize: 1 })).nextPageToken!;
    expect(await caught(ops.list({ kind: 'dead-lettered', pageToken: quarantinedToken }))).toMatchObject({
      field: 'pageToken',
      reason: 'stale',
    });
    const otherVersion = Buffer.from(JSON.stringify({ v: 0, l: 'quarantined', s: 0, a: null })).toString('base64url');
    expect(await caught(ops.list({ kind: 'quarantined', pageToken: otherVersion }))).toMatchObject({ reason: 'stale' });
  });

  it('retry: applied once onto the local queue; a second retry is refused saying when and by whom; the list hides it unless asked', async () => {
    const [first] = await ops.retry([valid], 'alice@contoso.com');
    expect(first).toEqual({
      id: valid,
      outcome: 'retried',
      detail: expect.stringMatching(/^local queue project-actuals, message replay-/),
    });

    const [second] = await ops.retry([valid], 'bob@contoso.com');
    expect(second).toEqual({
      id: valid,
      outcome: 'refused',
      detail: `already retried at ${NOW.toISOString()} by alice@contoso.com`,
    });

    // The actual went back to project-actuals (an actual refused by the import goes through syncActuals), once.
    const queued = (await onLocalQueue(messages, 'project-actuals')).filter((m) => m.body.includes('OPS-VALID'));
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ deliveryCount: 0, messageId: expect.stringMatching(/^replay-/) });

    const shown = (await allPages(ops, { kind: 'quarantined' })).flat();
    expect(shown.map((m) => m.id)).not.toContain(valid);
    const all = (await allPages(ops, { kind: 'quarantined', includeRetried: true })).flat();
    expect(all.find((m) => m.id === valid)).toMatchObject({ retriedAt: NOW.toISOString(), retriedBy: 'alice@contoso.com' });
  });

  it('retry of a local dead letter: onto the local queue, removed from the dead letters; again: refused with when and by whom', async () => {
    const [first] = await ops.retry([deadLetter], 'alice@contoso.com');
    expect(first).toMatchObject({ outcome: 'retried', detail: expect.stringContaining('removed from the local dead letters') });
    expect((await onLocalQueue(messages, 'project-actuals')).filter((m) => m.body.includes('OPS-DEAD'))).toHaveLength(1);
    expect((await ops.list({ kind: 'dead-lettered' })).items).toEqual([]);

    const [second] = await ops.retry([deadLetter], 'bob@contoso.com');
    expect(second).toEqual({ id: deadLetter, outcome: 'refused', detail: `already retried at ${NOW.toISOString()} by alice@contoso.com` });
    expect((await onLocalQueue(messages, 'project-actuals')).filter((m) => m.body.includes('OPS-DEAD'))).toHaveLength(1);
  });

  it('a mixed batch: each id answered in order; unknown → not-found, a body that breaks its contract → refused, nothing sent for them', async () => {
    const before = (await onLocalQueue(messages, 'project-actuals')).length;
    const results = await ops.retry(
      [valid, 'ffffffffffffffffffffffffffffffff', invalid, 'ldl-0000000000000000000000000000', 'sb:project-actuals:7'],
      'carol',
    );
    expect(results.map((r) => [r.id, r.outcome])).toEqual([
      [valid, 'refused'],
      ['ffffffffffffffffffffffffffffffff', 'not-found'],
      [invalid, 'refused'],
      ['ldl-0000000000000000000000000000', 'not-found'],
      ['sb:project-actuals:7', 'not-found'],
    ]);
    expect(results[2]!.detail).toMatch(/would be refused again by the project-actuals contract: amount/);
    expect(results[4]!.detail).toContain('Service Bus is not configured');
    expect((await onLocalQueue(messages, 'project-actuals')).length).toBe(before);
    expect((await quarantine.get('project-actuals', invalid))!.replayedAt).toBeNull();
  });

  it('the same id twice in one batch is retried once', async () => {
    const fixed = JSON.stringify(actual({ actualId: 'OPS-TWICE' }));
    const kept = await quarantine.keep({ source: 'project-actuals', reason: 'a rule since fixed', raw: fixed, now: NOW });
    const results = await ops.retry([kept, kept], 'dave');
    expect(results.map((r) => r.outcome)).toEqual(['retried', 'refused']);
    expect((await onLocalQueue(messages, 'project-actuals')).filter((m) => m.body.includes('OPS-TWICE'))).toHaveLength(1);
  });
});

// ---------------------------------------------------------------- Service Bus, stood in

type Fake = Partial<ServiceBusReceivedMessage> & { body: unknown };

/** A namespace in memory, like the service: peek from a sequence number, peek-lock receive, complete removes. */
function serviceBusStandIn(dead: Record<string, Fake[]>) {
  const sent: { queue: string; message: ServiceBusMessage }[] = [];
  const seq = (m: Fake) => BigInt(String(m.sequenceNumber));
  const port: ServiceBusPort = {
    deadLetterReceiver(queue) {
      const messages = (dead[queue] ??= []);
      const locked = new Set<Fake>();
      let cursor = 0n;
      return {
        peekMessages: async (max, options) => {
          if (options?.fromSequenceNumber !== undefined) cursor = BigInt(options.fromSequenceNumber.toString());
          const page = messages.filter((m) => seq(m) >= cursor).slice(0, max);
          if (page.length) cursor = seq(page.at(-1)!) + 1n;
          return page as ServiceBusReceivedMessage[];
        },
        receiveMessages: async (max) => {
          const page = messages.filter((m) => !locked.has(m)).slice(0, max);
          for (const m of page) locked.add(m);
          return page as ServiceBusReceivedMessage[];
        },
        completeMessage: async (m) => void messages.splice(messages.indexOf(m as Fake), 1),
        abandonMessage: async (m) => void locked.delete(m as Fake),
        close: async () => {},
      };
    },
    sender: (queue) => ({ sendMessages: async (message) => void sent.push({ queue, message }), close: async () => {} }),
    close: async () => {},
  };
  return { port, sent };
}

function deadLetterOf(n: number, body: unknown): Fake {
  return {
    sequenceNumber: { toString: () => String(n) } as never,
    messageId: `sb-${n}`,
    body,
    deadLetterReason: 'MaxDeliveryCountExceeded',
    deadLetterErrorDescription: 'Message could not be consumed after 10 delivery attempts.',
    enqueuedTimeUtc: NOW,
  };
}

describe('operations on messages with a Service Bus stand-in (in memory, no namespace): dead letters peeked in pages, retried to their queue once', () => {
  let s: Settings;
  let ops: MessageOperations;
  let bus: ReturnType<typeof serviceBusStandIn>;
  let quarantined: string;

  beforeAll(async () => {
    s = readSettings(testEnvironment());
    const [q, o] = await tables(s, 'quarantine', 'quarantineOpen');
    quarantined = await new QuarantineStore(q!, o!).keep({
      source: 'project-actuals',
      reason: 'a rule since fixed',
      raw: JSON.stringify(actual({ actualId: 'SB-Q' })),
      now: NOW,
    });
    bus = serviceBusStandIn({
      'project-invoice-proposals': [],
      'project-actuals': [3, 5, 8].map((n) => deadLetterOf(n, Buffer.from(JSON.stringify(actual({ actualId: `SB-${n}` }))))),
    });
    ({ operations: ops } = createMessageOperations(s, { bus: bus.port, now: () => NOW }));
  });
  afterAll(async () => {
    await Promise.all(
      ['quarantine', 'messageRetries'].map((n) =>
        tableClient(s, n)
          .deleteTable()
          .catch(() => {}),
      ),
    );
  });

  it('lists the dead letters of every queue in pages of two, through the local ones (none) and each queue', async () => {
    const pages = await allPages(ops, { kind: 'dead-lettered', pageSize: 2 });
    expect(pages.flat().map((m) => m.id)).toEqual(['sb:project-actuals:3', 'sb:project-actuals:5', 'sb:project-actuals:8']);
    expect(pages.flat()[0]).toMatchObject({
      kind: 'dead-lettered',
      source: 'project-actuals',
      reason: 'MaxDeliveryCountExceeded: Message could not be consumed after 10 delivery attempts.',
    });
  });

  it('retries a dead letter once: sent again as a new message and completed; a second retry is refused with when and by whom', async () => {
    const [first] = await ops.retry(['sb:project-actuals:5'], 'alice');
    expect(first).toMatchObject({
      outcome: 'retried',
      detail: expect.stringMatching(/^Service Bus queue project-actuals, message replay-.*dead letter completed$/),
    });
    const [second] = await ops.retry(['sb:project-actuals:5'], 'bob');
    expect(second).toEqual({ id: 'sb:project-actuals:5', outcome: 'refused', detail: `already retried at ${NOW.toISOString()} by alice` });
    expect(bus.sent.filter((x) => String(x.message.body).includes('SB-5'))).toHaveLength(1);
    expect((await allPages(ops, { kind: 'dead-lettered' })).flat().map((m) => m.id)).toEqual([
      'sb:project-actuals:3',
      'sb:project-actuals:8',
    ]);
  });

  it('a quarantined message goes to its Service Bus queue, not the local queue table', async () => {
    const [r] = await ops.retry([quarantined], 'alice');
    expect(r).toMatchObject({ outcome: 'retried', detail: expect.stringMatching(/^Service Bus queue project-actuals, message replay-/) });
    expect(bus.sent.at(-1)).toMatchObject({ queue: 'project-actuals', message: { messageId: expect.stringMatching(/^replay-/) } });
  });
});

describe('a retried message reaches its function through the local host (real host process, no Service Bus)', () => {
  let host: HostProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    env = testEnvironment({ IMPORT_SCHEDULE: '0 0 0 1 1 *', DISPATCH_SCHEDULE: '0 0 0 1 1 *', LOCAL_FUNCTION_KEY: 'ops-test-key' });
    host = await spawnHost(env);
  });
  afterAll(async () => {
    await host?.kill();
  });

  it('the host pump delivers the retried actual to syncActuals, which registers it', async () => {
    const s = readSettings(env);
    const good = actual({ actualId: 'OPS-HOST-1' });
    const id = await new QuarantineStore(tableClient(s, 'quarantine'), tableClient(s, 'quarantineOpen')).keep({
      source: 'import-from-staging',
      reason: 'its proposal was posted before it arrived',
      raw: JSON.stringify(good),
      now: new Date(),
    });
    const { operations } = createMessageOperations(s);
    expect((await operations.retry([id], 'alice'))[0]).toMatchObject({ outcome: 'retried' });
    const registered = await until('the actual registered', async () => {
      const r = await fetch(`${host.url}/api/actuals/usmf/${good.actualId}`, { headers: { 'x-functions-key': 'ops-test-key' } });
      return r.status === 200 && r.json();
    });
    expect(registered).toMatchObject({ actualId: good.actualId, version: 1 });
  });
});
