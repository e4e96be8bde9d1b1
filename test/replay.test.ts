import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalQueues } from '../host/localQueues';
import { readSettings } from '../shared/config';
import { QuarantineStore } from '../shared/storage/quarantine';
import { tableClient } from '../shared/storage/tables';
import { main } from '../scripts/replay';
import { replayServiceBusDeadLetter, type ServiceBusPort } from '../shared/messaging/deadLetters';
import { actual } from './support/builders';
import { adminCall, spawnHost, until, type HostProcess } from './support/hostProcess';
import { testEnvironment } from './support/runtime';

const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const KEY = 'replay-test-key';
const keyHeader = { 'x-functions-key': KEY };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real command line: `tsx scripts/replay.ts …`, as `npm run replay -- …` runs it. */
function cli(args: string[], env: Record<string, string>, cwd = ROOT): Promise<Run> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [TSX, join(ROOT, 'scripts', 'replay.ts'), ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', fail);
    child.once('exit', (code) => ok({ code, stdout, stderr }));
  });
}

/** The same entry in this process, for the cases that need a fake fetch or Service Bus. */
async function run(args: string[], env: Record<string, string>, extra: Partial<Parameters<typeof main>[1]> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (t) => (stdout += `${t}\n`),
    err: (t) => (stderr += `${t}\n`),
    env: { ...env },
    cwd: ROOT,
    ...extra,
  });
  return { code, stdout, stderr };
}

const json = (r: Run) => JSON.parse(r.stdout) as any[];

describe('replay CLI against the local host', () => {
  let host: HostProcess;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    // Timers far away, function keys on (the CLI must send LOCAL_FUNCTION_KEY).
    env = testEnvironment({ IMPORT_SCHEDULE: '0 0 0 1 1 *', DISPATCH_SCHEDULE: '0 0 0 1 1 *', LOCAL_FUNCTION_KEY: KEY });
    host = await spawnHost(env);
    dir = mkdtempSync(join(tmpdir(), 'replay-'));
  });
  afterAll(async () => {
    await host?.kill();
  });

  const getActual = (id: string) => fetch(`${host.url}/api/actuals/usmf/${id}`, { headers: keyHeader });
  async function quarantined(body: unknown): Promise<string> {
    expect((await adminCall(host.url, 'syncActuals', body, keyHeader)).status).toBe(202);
    const row = await until('the quarantined message', async () => {
      const rows = (await (
        await fetch(`${host.url}/admin/local/quarantine?source=project-actuals`, { headers: keyHeader })
      ).json()) as any[];
      return rows.find((r: any) => r.raw === JSON.stringify(body));
    });
    return row.id;
  }

  it('an invalid actual is quarantined, listed, shown, refused unedited, replayed with --edit, registered; a second replay is refused and list no longer shows it (real CLI entry)', async () => {
    const good = actual({ actualId: 'REPLAY-ACT-1', amount: '12.50' });
    const bad = { ...good, amount: 12.5 }; // a number: money must be a decimal string
    const id = await quarantined(bad);

    const listed = await run(['list', '--json'], env);
    expect(listed.code).toBe(0);
    expect(json(listed)).toContainEqual(
      expect.objectContaining({
        id,
        kind: 'quarantine',
        source: 'project-actuals',
        replayedAt: null,
        reason: expect.stringContaining('amount'),
      }),
    );

    const table = await cli(['list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+WHERE\s+SOURCE\s+RECEIVED\s+MESSAGE ID\s+REASON\s+REPLAYED/);
    expect(table.stdout).toMatch(new RegExp(`${id.slice(0, 12)}\\s+quarantine\\s+project-actuals .*amount.*\\bno$`, 'm'));

    const shown = await cli(['show', id.slice(0, 10)], env); // a unique prefix does
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^id +${id}$`, 'm'));
    expect(shown.stdout).toContain('project-actuals (replays to syncActuals)');
    expect(shown.stdout).toContain('body (JSON, pretty-printed)');
    expect(shown.stdout).toContain('"amount": 12.5');

    // Unedited it would only be refused again: the tool says so and marks nothing.
    const unedited = await run(['replay', id, '--url', host.url], env);
    expect(unedited.code).toBe(1);
    expect(unedited.stderr).toMatch(/would be refused again by the project-actuals contract: amount: .*--edit/);

    const fixed = join(dir, 'fixed.json');
    writeFileSync(fixed, JSON.stringify(good, null, 2));
    const replayed = await cli(['replay', id, '--edit', 'fixed.json', '--url', host.url], env, dir);
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(
      new RegExp(`^replayed +${id}: local host ${host.url} → syncActuals, message [0-9a-f-]{36}, body from fixed.json$`, 'm'),
    );
    expect(replayed.stdout).toContain('1 replayed, 0 refused, 0 failed.');

    const registered = await until('the actual registered', async () => {
      const r = await getActual(good.actualId);
      return r.status === 200 && r.json();
    });
    expect(registered).toMatchObject({ actualId: good.actualId, amount: '12.50', version: 1 });

    const again = await cli(['replay', id, '--edit', fixed, '--url', host.url], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`^refused +${id}: already replayed at \\S+; replaying it a second time needs --force$`, 'm'));
    expect(again.stdout).toContain('0 replayed, 1 refused, 0 failed.');

    expect(json(await run(['list', '--json'], env)).map((i) => i.id)).not.toContain(id);
    const all = json(await run(['list', '--all', '--json', '--source', 'project-actuals'], env));
    expect(all.find((i) => i.id === id)?.replayedAt).toEqual(expect.any(String));
  });

  it('a local dead letter is listed, replayed through the admin call, and removed with its ETag; a second replay finds nothing', async () => {
    const settings = readSettings(env);
    const scratch = tableClient(settings, 'replayScratch');
    await scratch.createTable();
    // The host's own queue code dead-letters it, as after the max delivery count.
    const queues = new LocalQueues(scratch, tableClient(settings, 'localDeadLetters'), {
      maxDeliveryCount: 1,
      lockMs: 60_000,
      redeliveryDelayMs: 0,
    });
    const body = actual({ actualId: 'REPLAY-DL-1', transactionType: 'Cost', invoiceId: undefined, proposalId: undefined });
    await queues.enqueue('project-actuals', JSON.stringify(body), 'dl-message-1');
    const [m] = await queues.receive('project-actuals', 1);
    expect(await queues.abandon(m!, 'Error: storage is down')).toBe('deadLettered');
    expect((await getActual(body.actualId)).status).toBe(404);

    const listed = json(await run(['list', '--json', '--source', 'project-actuals'], env));
    const dead = listed.find((i) => i.kind === 'local-dead-letter');
    expect(dead).toMatchObject({
      source: 'project-actuals',
      messageId: 'dl-message-1',
      reason: 'MaxDeliveryCountExceeded: failed 1 deliveries; last error: Error: storage is down',
    });
    expect(dead.id).toMatch(/^ldl-[0-9a-f]{28}$/);

    const shown = await run(['show', dead.id], env);
    expect(shown.stdout).toContain('#1 ');
    expect(shown.stdout).toContain('Error: storage is down');

    const replayed = await run(['replay', dead.id, '--url', host.url], env);
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain('removed from the local dead letters');
    await until('the actual registered', async () => (await getActual(body.actualId)).status === 200);
    expect(await (await fetch(`${host.url}/admin/local/dead-letters`, { headers: keyHeader })).json()).toEqual([]);

    const again = await run(['replay', dead.id, '--url', host.url], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no quarantined or dead-lettered message has id ${dead.id}`);
  });

  it('two operators replaying one message at once: the ETag lets exactly one resubmit it', async () => {
    const good = actual({ actualId: 'REPLAY-ACT-2', amount: '7.00' });
    const id = await quarantined({ ...good, amount: 7 });
    const fixed = join(dir, 'fixed2.json');
    writeFileSync(fixed, JSON.stringify(good));
    let posts = 0;
    const counting: typeof fetch = (input, init) => {
      if (init?.method === 'POST') posts++;
      return fetch(input, init);
    };
    const runs = await Promise.all([1, 2].map(() => run(['replay', id, '--edit', fixed, '--url', host.url], env, { fetch: counting })));
    expect(runs.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(runs.find((r) => r.code === 1)!.stderr).toMatch(/already replayed at|changed while this replay read it/);
    expect(posts).toBe(1);
  });

  it('a failed resubmission takes the replay mark back, so the message can be replayed later', async () => {
    const good = actual({ actualId: 'REPLAY-ACT-3', amount: '3.00' });
    const id = await quarantined({ ...good, amount: 3 });
    const fixed = join(dir, 'fixed3.json');
    writeFileSync(fixed, JSON.stringify(good));
    const broken: typeof fetch = async (input, init) =>
      init?.method === 'POST' ? new Response(JSON.stringify({ detail: 'the host is shutting down' }), { status: 503 }) : fetch(input, init);
    const failed = await run(['replay', id, '--edit', fixed, '--url', host.url], env, { fetch: broken });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /failed +\w+: resubmission failed: the local host refused POST \/admin\/functions\/syncActuals: 503 the host is shutting down; the replay mark was taken back/,
    );
    expect(json(await run(['list', '--json'], env)).find((i) => i.id === id)).toMatchObject({ replayedAt: null });

    const noHost = await run(['replay', id, '--edit', fixed, '--url', 'http://127.0.0.1:9'], env);
    expect(noHost.code).toBe(1);
    expect(noHost.stderr).toContain('no local host answers at http://127.0.0.1:9');
    expect((await run(['replay', id, '--edit', fixed, '--url', host.url], env)).code).toBe(0);
  });

  it('a message replayed unchanged (--force) and refused again comes back to the list: nothing silent', async () => {
    const bad = { ...actual({ actualId: 'REPLAY-ACT-4' }), amount: 4 };
    const id = await quarantined(bad);
    const forced = await run(['replay', id, '--force', '--url', host.url], env);
    expect(forced.code).toBe(0);
    const back = await until('quarantined again', async () => json(await run(['list', '--json'], env)).find((i) => i.id === id));
    expect(back).toMatchObject({ replayedAt: null, reason: expect.stringContaining('amount') });
  });

  it('usage errors exit 2 with a pointer to --help; --help exits 0', async () => {
    const help = await run(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run replay -- <command>');
    for (const args of [
      [],
      ['bogus'],
      ['list', '--frobnicate'],
      ['list', '--source', 'nowhere'],
      ['replay'],
      ['replay', '--all'],
      ['replay', 'a', 'b', '--edit', 'x.json'],
      ['replay', 'abc', '--to', 'carrier-pigeon'],
      ['show'],
    ]) {
      const r = await run(args, env);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
    }
    expect((await run(['show', 'deadbeefdeadbeef'], env)).code).toBe(1);
  });
});

// ---------------------------------------------------------------- Service Bus, faked

type Fake = Partial<ServiceBusReceivedMessage> & { body: unknown };

function deadLetter(seq: number, body: unknown, extra: Partial<ServiceBusReceivedMessage> = {}): Fake {
  return {
    sequenceNumber: { toString: () => String(seq) } as never,
    messageId: `m-${seq}`,
    body,
    contentType: 'application/json',
    deliveryCount: 10,
    deadLetterReason: 'MaxDeliveryCountExceeded',
    deadLetterErrorDescription: 'Message could not be consumed after 10 delivery attempts.',
    enqueuedTimeUtc: new Date('2026-11-20T10:00:00Z'),
    applicationProperties: { origin: 'dataverse' },
    ...extra,
  };
}

/** A namespace in memory: dead-letter queues that lock on receive, and senders that record. */
function fakeBus(dead: Record<string, Fake[]>, options: { failSend?: boolean } = {}) {
  const sent: { queue: string; message: ServiceBusMessage }[] = [];
  const completed: string[] = [];
  const abandoned: string[] = [];
  const seq = (m: Fake) => String(m.sequenceNumber);
  const port: ServiceBusPort = {
    deadLetterReceiver(queue) {
      const messages = (dead[queue] ??= []);
      const locked = new Set<Fake>();
      let peeked = 0;
      return {
        // Like the service: from a sequence number when given, else after the last message this receiver peeked.
        peekMessages: async (max, options) => {
          if (options?.fromSequenceNumber !== undefined) {
            const from = BigInt(options.fromSequenceNumber.toString());
            peeked = messages.filter((m) => BigInt(seq(m)) < from).length;
          }
          const page = messages.slice(peeked, peeked + max);
          peeked += page.length;
          return page as ServiceBusReceivedMessage[];
        },
        receiveMessages: async (max) => {
          const page = messages.filter((m) => !locked.has(m)).slice(0, max);
          for (const m of page) locked.add(m);
          return page as ServiceBusReceivedMessage[];
        },
        completeMessage: async (m) => {
          completed.push(seq(m as Fake));
          messages.splice(messages.indexOf(m as Fake), 1);
        },
        abandonMessage: async (m) => {
          abandoned.push(seq(m as Fake));
          locked.delete(m as Fake);
        },
        close: async () => {},
      };
    },
    sender: (queue) => ({
      sendMessages: async (message) => {
        if (options.failSend) throw new Error('the namespace is unavailable');
        sent.push({ queue, message });
      },
      close: async () => {},
    }),
    close: async () => {},
  };
  return { port, sent, completed, abandoned, dead };
}

const FAKE_CONNECTION = 'Endpoint=sb://fake.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v';

describe('Service Bus dead letters (mocked: no namespace)', () => {
  const valid = actual({ actualId: 'SB-ACT-1' });

  it('mocked: no namespace — receive from the DLQ in peek-lock, resend as a new message, then complete; others are left where they were', async () => {
    const bus = fakeBus({ 'project-actuals': [deadLetter(6, { other: true }), deadLetter(7, Buffer.from(JSON.stringify(valid)))] });
    const { messageId } = await replayServiceBusDeadLetter(
      bus.port,
      { queue: 'project-actuals', sequenceNumber: '7' },
      { now: new Date('2026-11-21T00:00:00Z') },
    );
    expect(bus.completed).toEqual(['7']);
    expect(bus.abandoned).toEqual(['6']);
    expect(bus.sent).toHaveLength(1);
    const [{ queue, message }] = bus.sent as [(typeof bus.sent)[number]];
    expect(queue).toBe('project-actuals');
    expect(message.messageId).toBe(messageId);
    expect(messageId).toMatch(/^replay-/); // duplicate detection would drop the original MessageId
    expect(JSON.parse(String(message.body))).toEqual(valid);
    expect(message.applicationProperties).toMatchObject({
      origin: 'dataverse',
      replayOf: 'm-7',
      replayedFrom: 'project-actuals/$deadletterqueue#7',
      replayEdited: false,
    });
    expect(bus.dead['project-actuals']!.map((m) => String(m.sequenceNumber))).toEqual(['6']);
  });

  it('mocked: no namespace — a failed send abandons the dead letter (it stays), and one already taken is refused', async () => {
    const bus = fakeBus({ 'project-actuals': [deadLetter(7, JSON.stringify(valid))] }, { failSend: true });
    await expect(
      replayServiceBusDeadLetter(bus.port, { queue: 'project-actuals', sequenceNumber: '7' }, { now: new Date() }),
    ).rejects.toThrow('the namespace is unavailable');
    expect(bus.completed).toEqual([]);
    expect(bus.abandoned).toEqual(['7']);
    await expect(
      replayServiceBusDeadLetter(bus.port, { queue: 'project-actuals', sequenceNumber: '8' }, { now: new Date() }),
    ).rejects.toThrow(/is not in the dead-letter queue of project-actuals any more/);
  });

  it('mocked: no namespace — the CLI lists peeked dead letters, replays one with --edit, and sends a quarantined import-from-staging actual to project-actuals with --to servicebus', async () => {
    const env = testEnvironment({ ServiceBusConnection: FAKE_CONNECTION });
    const bus = fakeBus({
      'project-actuals': [deadLetter(41, JSON.stringify({ ...valid, amount: 1 }))],
      'project-invoice-proposals': [deadLetter(3, '{"status":"Draft"}')],
    });
    const serviceBus = () => bus.port;
    const quarantine = tableClient(readSettings(env), 'quarantine');
    await quarantine.createTable();
    const qid = await new QuarantineStore(quarantine, tableClient(readSettings(env), 'quarantineOpen')).keep({
      source: 'import-from-staging',
      messageId: 'SB-ACT-2@1',
      reason: 'proposal PINV-1 is already posted',
      raw: JSON.stringify(actual({ actualId: 'SB-ACT-2' })),
      now: new Date(),
    });

    const listed = await run(['list'], env, { serviceBus });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^sb:project-actuals:41\s+SB DLQ\s+project-actuals\s+2026-11-20 10:00:00Z\s+m-41\s+MaxDeliveryCountExceeded: Message could not be consumed/m,
    );
    expect(listed.stdout).toMatch(/^sb:project-invoice-proposals:3\s+SB DLQ/m);
    expect(listed.stdout).toContain('1 quarantined, 0 local dead letters, 2 Service Bus dead letters.');

    const shown = await run(['show', 'sb:project-actuals:41'], env, { serviceBus });
    expect(shown.stdout).toMatch(/^sequence no\. +41$/m);
    expect(shown.stdout).toContain('"amount": 1');

    const dir = mkdtempSync(join(tmpdir(), 'replay-sb-'));
    writeFileSync(join(dir, 'fixed.json'), JSON.stringify(valid));
    const replayed = await run(['replay', 'sb:project-actuals:41', '--edit', join(dir, 'fixed.json')], env, { serviceBus });
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(
      /replayed +sb:project-actuals:41: Service Bus queue project-actuals, message replay-\S+, body from .*fixed.json; dead letter completed/,
    );
    expect(bus.completed).toEqual(['41']);
    expect(JSON.parse(String(bus.sent[0]!.message.body))).toEqual(valid);

    const toBus = await run(['replay', qid, '--to', 'servicebus'], env, { serviceBus });
    expect(toBus.stderr).toBe('');
    expect(toBus.code).toBe(0);
    expect(bus.sent[1]).toMatchObject({
      queue: 'project-actuals',
      message: { contentType: 'application/json', applicationProperties: { replayOf: 'SB-ACT-2@1', replayedFrom: qid } },
    });
    expect(JSON.parse(String(bus.sent[1]!.message.body))).toMatchObject({ actualId: 'SB-ACT-2' });

    const draft = await run(['replay', 'sb:project-invoice-proposals:3'], env, { serviceBus });
    expect(draft.code).toBe(1);
    expect(draft.stderr).toContain('would be refused again by the project-invoice-proposals contract');
    expect(bus.sent).toHaveLength(2);
  });
});
