/**
 * The bench's helper processes (started by bench/processes.ts, never by hand):
 *
 *   memory  runs Import from staging over what the parent seeded and reports
 *           this process's RSS before and at its peak, so measurement 5 sees
 *           the import's memory alone (not the seeding's, not Azurite's);
 *   host    runs the local host (host/localHost.ts) for measurements 6 and 8
 *           (BENCH_DEFAULT_SCHEDULES: with the timers on their default schedules);
 *   bare    runs a bare Node HTTP server doing one table read per request,
 *           measurement 6's baseline;
 *   large   takes one very large invoice end to end (bench/large.ts) and
 *           reports its RSS, so measurement 8 sees that invoice's memory alone.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TableClient } from '@azure/data-tables';
import { readSettings } from '../shared/config';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import { createRuntime } from '../shared/runtime';
import { largeInvoiceEndToEnd, ServiceBusStandIn, type LargeInvoiceResult } from './large';
import { benchEnvironment, RequestCounter, silentLog } from './support';

export type ChildMessage =
  | {
      kind: 'memory';
      rssBefore: number;
      heapBefore: number;
      peakRss: number;
      peakHeap: number;
      maxRss: number;
      seconds: number;
      summary: unknown;
      requests: Record<string, number>;
      entitiesRead: Record<string, number>;
    }
  | {
      kind: 'large';
      rssBefore: number;
      peakRss: number;
      heapBefore: number;
      peakHeap: number;
      result: LargeInvoiceResult;
      requests: Record<string, number>;
      entityOperations: number;
    }
  | { kind: 'listening'; port: number }
  | { kind: 'error'; message: string };

const send = (m: ChildMessage) => new Promise<void>((ok) => process.send!(m, () => ok()));
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

/** RSS and heap before, and their peaks sampled every 5 ms until `stop`. */
async function memorySampler() {
  gc();
  await new Promise((r) => setTimeout(r, 100));
  gc();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 5);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { rssBefore: before.rss, heapBefore: before.heapUsed, peakRss, peakHeap };
    },
  };
}

async function large(): Promise<void> {
  const counter = new RequestCounter();
  const sender = new ServiceBusStandIn();
  const settings = readSettings(benchEnvironment(env('BENCH_CONNECTION'), env('BENCH_PREFIX')));
  const rt = await createRuntime(settings, {
    sender,
    storage: { additionalPolicies: [{ policy: counter.policy(), position: 'perCall' }] },
  });
  counter.reset();
  const sampler = await memorySampler();
  const result = await largeInvoiceEndToEnd(rt, sender, Number(env('BENCH_LINES')), {
    run: env('BENCH_RUN'),
    concurrency: Number(env('BENCH_CONCURRENCY')),
  });
  await send({
    kind: 'large',
    ...sampler.stop(),
    result,
    requests: counter.snapshot(settings.TABLE_PREFIX),
    entityOperations: counter.entityOperations,
  });
}

async function memory(): Promise<void> {
  const counter = new RequestCounter();
  const settings = readSettings(benchEnvironment(env('BENCH_CONNECTION'), env('BENCH_PREFIX')));
  const rt = await createRuntime(settings, { storage: { additionalPolicies: [{ policy: counter.policy(), position: 'perCall' }] } });
  counter.reset();
  const sampler = await memorySampler();
  const start = process.hrtime.bigint();
  const summary = await importFromStaging(rt, silentLog, { concurrency: Number(env('BENCH_CONCURRENCY')) });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await send({
    kind: 'memory',
    ...sampler.stop(),
    maxRss: process.resourceUsage().maxRSS * 1024,
    seconds,
    summary,
    requests: counter.snapshot(settings.TABLE_PREFIX),
    entitiesRead: counter.readSnapshot(settings.TABLE_PREFIX),
  });
}

async function host(): Promise<void> {
  const { startLocalHost } = await import('../host/localHost');
  const running = await startLocalHost({
    root: process.cwd(),
    env: {
      ...process.env,
      AzureWebJobsStorage: env('BENCH_CONNECTION'),
      TABLE_PREFIX: env('BENCH_PREFIX'),
      POSTING_WEBHOOK_SECRET: env('BENCH_SECRET'),
      PORT: '0',
      ServiceBusConnection: '',
      // No timer fires during the load: the bench measures the callback alone (unless the default schedules are asked for).
      ...(process.env.BENCH_DEFAULT_SCHEDULES ? {} : { IMPORT_SCHEDULE: '0 0 0 1 1 *', DISPATCH_SCHEDULE: '0 0 0 1 1 *' }),
    },
    log: () => {},
  });
  process.once('disconnect', () => void running.stop().then(() => process.exit(0)));
  await send({ kind: 'listening', port: running.port });
}

async function bare(): Promise<void> {
  const table = TableClient.fromConnectionString(env('BENCH_CONNECTION'), env('BENCH_TABLE'), { allowInsecureConnection: true });
  const [pk, rk] = [env('BENCH_PK'), env('BENCH_RK')];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      table.getEntity(pk, rk).then(
        (e) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true, etag: e.etag, bytes: Buffer.concat(chunks).length }));
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(e.message);
        },
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  process.once('disconnect', () => server.close(() => process.exit(0)));
  await send({ kind: 'listening', port: (server.address() as AddressInfo).port });
}

const modes: Record<string, () => Promise<void>> = { memory, host, bare, large };
const mode = process.env.BENCH_CHILD ?? '';
(modes[mode] ?? (() => Promise.reject(new Error(`unknown BENCH_CHILD "${mode}"`))))().then(
  () => {
    if (mode === 'memory' || mode === 'large') process.exit(0);
  },
  async (e: unknown) => {
    await send({ kind: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exit(1);
  },
);
