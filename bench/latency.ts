import { TableServiceClient } from '@azure/data-tables';
import type { BenchContext } from './context';
import { round, row } from './context';
import { proposals, type Proposal } from './fixtures';
import { startChild } from './processes';
import { assert, BENCH_WEBHOOK_SECRET, benchRuntime, pool } from './support';
import { target, type BenchRow } from './types';

/** The local host's own tables (queues, timers), beside the product's, under the same prefix. */
const HOST_TABLES = ['localMessages', 'localDeadLetters', 'localTimers'];

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function admin(url: string, fn: string, message: unknown): Promise<void> {
  const res = await fetch(`${url}/admin/functions/${fn}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: JSON.stringify(message) }),
  });
  assert(res.status === 202, `measurement 8: the admin call for ${fn} answered ${res.status}`);
  await res.arrayBuffer();
}

/** Polls the proposal until it answers LinesCreated; seconds since `from`. */
async function linesAfter(url: string, p: Proposal, from: number, timeoutMs: number): Promise<number> {
  const path = `${url}/api/invoice-proposals/${p.invoice.legalEntity}/${encodeURIComponent(p.invoice.proposalId)}`;
  for (;;) {
    const res = await fetch(path);
    const body = (await res.json().catch(() => undefined)) as { status?: string } | undefined;
    if (body?.status === 'LinesCreated') return (performance.now() - from) / 1000;
    assert(performance.now() - from < timeoutMs, `measurement 8: ${p.invoice.proposalId} had no lines after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Measurement 8 (issue 15): how long a confirmed invoice waits for its lines. The local host runs in its
 * own process with the default settings (the import every 5 minutes, the fast path on); each invoice's
 * header and actuals go in through the admin call, and the figure is the time from the admin call that
 * delivers its last actual to GET /api/invoice-proposals/{le}/{id} answering LinesCreated. Invoices are
 * delivered a few at a time, as a month-end batch would come.
 */
export async function lastMessageLatency(ctx: BenchContext): Promise<BenchRow[]> {
  const { scale } = ctx;
  const b = await benchRuntime(ctx.azurite.connectionString, 'm8');
  const host = startChild('host', {
    BENCH_CONNECTION: ctx.azurite.connectionString,
    BENCH_PREFIX: b.prefix,
    BENCH_SECRET: BENCH_WEBHOOK_SECRET,
    BENCH_DEFAULT_SCHEDULES: '1',
  });
  try {
    const up = await host.first;
    assert(up.kind === 'listening', 'measurement 8: the local host did not start');
    const url = `http://127.0.0.1:${up.port}`;
    const set = [...proposals('m8', scale.latencyInvoices, scale.linesPerProposal)];
    const seconds: number[] = [];
    await pool(set, scale.latencyConcurrency, async (p) => {
      await admin(url, 'syncInvoiceProposal', p.invoice);
      for (const a of p.actuals.slice(0, -1)) await admin(url, 'syncActuals', a);
      const from = performance.now();
      await admin(url, 'syncActuals', p.actuals.at(-1));
      // Past one whole import period: without the fast path the scheduled run would still give the lines.
      seconds.push(await linesAfter(url, p, from, 330_000));
    });
    const p50 = percentile(seconds, 50);
    const p95 = percentile(seconds, 95);
    const details = {
      invoices: set.length,
      linesPerInvoice: scale.linesPerProposal,
      deliveredAtOnce: scale.latencyConcurrency,
      max: round(Math.max(...seconds), 2),
      settings: 'defaults: IMPORT_FAST_PATH on, IMPORT_SCHEDULE 0 */5 * * * *; local queues stand for Service Bus',
      note: 'from the admin call that delivers the last actual to the first GET answering LinesCreated (polled every 50 ms)',
    };
    const name = (p: string) =>
      `last message to lines (${p}), through the local host, ${set.length} invoices of ${scale.linesPerProposal} lines`;
    return [
      row({ id: '9a', name: name('p50'), unit: 's', figures: [round(p50, 3)!], target: target.figureAtMost(5, '≤ 5 s'), details }),
      row({
        id: '9b',
        name: name('p95'),
        unit: 's',
        figures: [round(p95, 3)!],
        target: target.figureAtMost(15, '≤ 15 s'),
        details: { ...details, samples: seconds.map((s) => round(s, 3)) },
      }),
    ];
  } finally {
    await host.stop();
    await b.drop();
    const service = TableServiceClient.fromConnectionString(ctx.azurite.connectionString, { allowInsecureConnection: true });
    await Promise.all(HOST_TABLES.map((n) => service.deleteTable(`${b.prefix}${n}`).catch(() => undefined)));
  }
}
