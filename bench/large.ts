import { randomUUID } from 'node:crypto';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { Webhook } from 'standardwebhooks';
import { recordPostingCallback } from '../shared/http/postingCallback';
import type { AccountingUpdate, AccountingUpdateSender, OutboundMessage } from '../shared/messaging/accountingUpdates';
import { dispatchAccountingUpdates } from '../shared/pipeline/dispatchAccountingUpdates';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import type { Delivery } from '../shared/pipeline/inbound';
import { stageActuals } from '../shared/pipeline/stageActual';
import { chunk } from '../shared/storage/batches';
import { syncInvoiceProposal } from '../shared/pipeline/syncInvoiceProposal';
import { QUEUES } from '../shared/queues';
import type { Runtime } from '../shared/runtime';
import { SEND_WITH_ANSWER_MAX_LINES } from '../shared/pipeline/recordPosting';
import { round, row, type BenchContext } from './context';
import { postingFor, proposal } from './fixtures';
import { startChild } from './processes';
import { assert, BENCH_WEBHOOK_SECRET, benchRuntime, pool, silentLog, timed } from './support';
import { target, type BenchRow } from './types';

/**
 * Stand-in for the Service Bus queue actuals-accounting-updates: keeps what
 * was sent in memory by message id, so a resend is dropped as duplicate
 * detection drops it, and counts every send. Service Bus is not what the large
 * invoice measures; Table Storage is.
 */
export class ServiceBusStandIn implements AccountingUpdateSender {
  readonly received = new Map<string, AccountingUpdate>();
  sends = 0;
  messagesSent = 0;

  async send(messages: readonly OutboundMessage[]): Promise<void> {
    await Promise.resolve();
    this.sends++;
    this.messagesSent += messages.length;
    for (const m of messages) if (!this.received.has(m.messageId)) this.received.set(m.messageId, m.body);
  }
}

type Phases = { header: number; syncs: number; import: number; postingAnswer: number; sweep: number; total: number };

export interface LargeInvoiceResult {
  lines: number;
  seconds: Phases;
  /** CPU seconds this process spent in each step, and Azurite's when `azuriteCpu` is given. */
  cpu: { process: Phases; azurite: Partial<Phases> };
  /** The posting callback's HTTP status and the receipt's line count. */
  posting: { status: number; lineCount: number };
  /** Accounting updates the stand-in received once each, and how many the sweep sent. */
  updatesReceived: number;
  updatesSentBySweep: number;
}

/**
 * One invoice of `lines` billed sales actuals through every step, as Azure
 * runs them: the header and every actual delivered to their sync functions
 * (the actuals in batches of SYNC_BATCH, `concurrency` batches at once, as a
 * Functions instance takes Service Bus messages for a function with
 * cardinality 'many'), Import from staging, Finance's signed posting callback (timed: the
 * answer Finance waits for), and the outbox sweep that sends the accounting
 * updates of a posting too large to send before answering. Throws when any
 * step leaves the invoice short of a line or an update.
 */
/** host.json's maxMessageBatchSize: what one syncActuals invocation gets at most. */
const SYNC_BATCH = 100;

export async function largeInvoiceEndToEnd(
  rt: Runtime,
  sender: ServiceBusStandIn,
  lines: number,
  options: { run?: string; concurrency?: number; azuriteCpu?: () => number | null } = {},
): Promise<LargeInvoiceResult> {
  const cpu: LargeInvoiceResult['cpu'] = { process: { header: 0, syncs: 0, import: 0, postingAnswer: 0, sweep: 0, total: 0 }, azurite: {} };
  /** Wall and CPU seconds of one step. */
  const step = async <T>(name: keyof Phases, work: () => Promise<T>) => {
    const own = process.cpuUsage();
    const azurite = options.azuriteCpu?.() ?? null;
    const result = await timed(work);
    const used = process.cpuUsage(own);
    cpu.process[name] = (used.user + used.system) / 1e6;
    const azuriteAfter = options.azuriteCpu?.() ?? null;
    if (azurite !== null && azuriteAfter !== null) cpu.azurite[name] = azuriteAfter - azurite;
    return result;
  };
  const p = proposal(options.run ?? 'lg', 0, lines);
  const { legalEntity, proposalId } = p.invoice;
  const delivery = (source: string, id: string, body: unknown): Delivery => ({ source, messageId: id, body: JSON.stringify(body) });

  const all = await step('total', async () => {
    const header = await step('header', () => syncInvoiceProposal(rt, delivery(QUEUES.proposals, `h-${proposalId}`, p.invoice), silentLog));
    assert(header.value.kind === 'applied', `large invoice: header ${header.value.kind}`);
    // As syncActuals gets them from Service Bus: batches of host.json's maxMessageBatchSize, a few at once.
    const syncs = await step('syncs', () =>
      pool(chunk(p.actuals, SYNC_BATCH), options.concurrency ?? 2, async (batch) => {
        const outcomes = await stageActuals(
          rt,
          batch.map((a) => delivery(QUEUES.actuals, `a-${a.actualId}`, a)),
          silentLog,
        );
        outcomes.forEach((o, i) => assert(o.kind === 'applied', `large invoice: actual ${batch[i]!.actualId} ${o.kind}: ${o.detail}`));
      }),
    );
    const imported = await step('import', () => importFromStaging(rt, silentLog));
    assert(imported.value.outcomes.LinesCreated === 1, `large invoice: import ${JSON.stringify(imported.value.outcomes)}`);
    assert(imported.value.linesWritten === lines, `large invoice: ${imported.value.linesWritten} lines written, not ${lines}`);

    const body = JSON.stringify(postingFor(p));
    const webhookId = `msg_${randomUUID()}`;
    const at = new Date();
    const request = new HttpRequest({
      method: 'POST',
      url: `http://localhost/api/invoice-proposals/${legalEntity}/${proposalId}/posted`,
      params: { legalEntity, proposalId },
      headers: {
        'content-type': 'application/json',
        'webhook-id': webhookId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(BENCH_WEBHOOK_SECRET).sign(webhookId, at, body),
      },
      body: { string: body },
    });
    const context = new InvocationContext({ functionName: 'recordPosting', invocationId: webhookId, logHandler: () => {} });
    const answer = await step('postingAnswer', () =>
      recordPostingCallback(request, context, { secrets: [BENCH_WEBHOOK_SECRET], runtime: async () => rt }),
    );
    const receipt = answer.value.jsonBody as { lineCount?: number } | undefined;
    assert(answer.value.status === 200, `large invoice: posting answered ${answer.value.status}: ${JSON.stringify(answer.value.jsonBody)}`);

    const sweep = await step('sweep', () => dispatchAccountingUpdates(rt, silentLog));
    return { header, syncs, imported, answer, receipt, sweep };
  });
  const { header, syncs, imported, answer, receipt, sweep } = all.value;

  assert(sender.received.size === lines, `large invoice: ${sender.received.size} accounting updates received, not ${lines}`);
  const ids = new Set([...sender.received.values()].map((u) => u.actualId));
  assert(ids.size === lines, `large invoice: updates name ${ids.size} distinct actuals, not ${lines}`);
  return {
    lines,
    seconds: {
      header: header.seconds,
      syncs: syncs.seconds,
      import: imported.seconds,
      postingAnswer: answer.seconds,
      sweep: sweep.seconds,
      total: all.seconds,
    },
    cpu,
    posting: { status: answer.value.status ?? 0, lineCount: receipt?.lineCount ?? 0 },
    updatesReceived: sender.received.size,
    updatesSentBySweep: sweep.value.sent,
  };
}

const MB = 1024 * 1024;
/** Flex Consumption's default functionTimeout (docs/capacity.md): no one step may come near it, so neither may the whole. */
const FUNCTION_TIMEOUT_S = 30 * 60;

/** One invoice of `lines` lines end to end in a process of its own, so its RSS is that invoice's alone. */
async function inChild(ctx: BenchContext, lines: number, run: string) {
  const b = await benchRuntime(ctx.azurite.connectionString, `lg${run}`);
  const azurite0 = ctx.azurite.cpuSeconds();
  const child = startChild('large', {
    BENCH_CONNECTION: ctx.azurite.connectionString,
    BENCH_PREFIX: b.prefix,
    BENCH_LINES: String(lines),
    BENCH_RUN: run,
    // Batches at once: each registers 16 deliveries at a time, so 2 keep about syncConcurrency (16) × 2 in flight.
    BENCH_CONCURRENCY: String(Math.max(1, Math.round(ctx.scale.syncConcurrency / 8))),
  });
  try {
    const m = await child.first;
    assert(m.kind === 'large', `measurement 8: the child did not report (${m.kind})`);
    const azurite1 = ctx.azurite.cpuSeconds();
    const r = m.result;
    ctx.log(
      `  8: ${lines.toLocaleString('en')} lines end to end in ${r.seconds.total.toFixed(1)} s (syncs ${r.seconds.syncs.toFixed(1)}, import ${r.seconds.import.toFixed(1)}, posting answer ${r.seconds.postingAnswer.toFixed(2)}, sweep ${r.seconds.sweep.toFixed(1)}), RSS +${((m.peakRss - m.rssBefore) / MB).toFixed(0)} MB`,
    );
    return {
      result: r,
      rssGrowthMB: (m.peakRss - m.rssBefore) / MB,
      details: {
        lines,
        seconds: Object.fromEntries(Object.entries(r.seconds).map(([k, v]) => [k, round(v, 2)])),
        processCpuSeconds: Object.fromEntries(Object.entries(r.cpu.process).map(([k, v]) => [k, round(v, 2)])),
        azuriteCpuSeconds: azurite0 === null || azurite1 === null ? null : round(azurite1 - azurite0, 1),
        rssBeforeMB: round(m.rssBefore / MB, 1),
        peakRssMB: round(m.peakRss / MB, 1),
        peakHeapGrowthMB: round((m.peakHeap - m.heapBefore) / MB, 1),
        posting: r.posting,
        updatesReceived: r.updatesReceived,
        updatesSentBySweep: r.updatesSentBySweep,
        storageRequests: m.requests,
        entityOperations: m.entityOperations,
      },
    };
  } finally {
    await child.stop();
    await b.drop();
  }
}

/**
 * Measurement 8: very large invoices. A `largeLines`-line invoice (10,000 at full scale) end to end,
 * with its peak RSS and the time its posting callback takes to answer; and, at full scale only, a
 * `hugeLines`-line one (50,000). Each in a child process that does nothing else; each checks every
 * line and every accounting update (bench/large.ts), so a figure is only reported for an invoice
 * that went through whole.
 */
export async function largeInvoices(ctx: BenchContext): Promise<BenchRow[]> {
  const { scale } = ctx;
  const large = await inChild(ctx, scale.largeLines, 'lg');
  const n = scale.largeLines.toLocaleString('en');
  const rows = [
    row({
      id: '8a',
      name: `a ${n}-line invoice end to end: header sync, ${n} actual syncs (in syncActuals batches of ${SYNC_BATCH}), import, posting callback, accounting updates sent`,
      unit: 's',
      figures: [large.result.seconds.total],
      target: target.figureAtMost(
        FUNCTION_TIMEOUT_S,
        '≤ 1,800 s (Flex Consumption default function timeout); every line and update checked',
      ),
      details: large.details,
    }),
    row({
      id: '8b',
      name: `the same: peak RSS growth of the process that ran it all`,
      unit: 'MB',
      figures: [large.rssGrowthMB],
      target: target.figureAtMost(512, '≤ 512 MB (a Flex Consumption instance has 2,048 MB by default)'),
      details: {
        rssBeforeMB: large.details.rssBeforeMB,
        peakRssMB: large.details.peakRssMB,
        peakHeapGrowthMB: large.details.peakHeapGrowthMB,
      },
    }),
    row({
      id: '8c',
      name: `the same: the ${n}-line posting callback's answer (signature, receipt, decision, commit of the ${n} accounting amounts in pages of about 50)`,
      unit: 's',
      figures: [large.result.seconds.postingAnswer],
      target: target.figureAtMost(5, '≤ 5 s'),
      details: {
        processCpuSeconds: large.details.processCpuSeconds.postingAnswer,
        sendWithAnswerMaxLines: SEND_WITH_ANSWER_MAX_LINES,
        note: `a posting over ${SEND_WITH_ANSWER_MAX_LINES.toLocaleString('en')} lines answers once committed; its updates go out with the next outbox sweep (seconds.sweep)`,
      },
    }),
  ];
  if (scale.hugeLines) {
    const huge = await inChild(ctx, scale.hugeLines, 'hg');
    rows.push(
      row({
        id: '8d',
        name: `a ${scale.hugeLines.toLocaleString('en')}-line invoice end to end (as 8a; peak RSS growth ${huge.rssGrowthMB.toFixed(0)} MB, posting answer ${huge.result.seconds.postingAnswer.toFixed(1)} s)`,
        unit: 's',
        figures: [huge.result.seconds.total],
        target: target.figureAtMost(FUNCTION_TIMEOUT_S, '≤ 1,800 s; every line and update checked'),
        details: { ...huge.details, rssGrowthMB: round(huge.rssGrowthMB, 1) },
      }),
    );
  }
  return rows;
}
