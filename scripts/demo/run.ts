import { formatMoney, sameAmount, sumMoney } from '../../shared/contracts/money';
import type { ActualView, ProposalView } from '../../shared/domain/views';
import type { OutboundMessage } from '../../shared/messaging/accountingUpdates';
import { buildBatch, postingFor, type DemoBatch, type DemoInvoice } from './batch';
import { inParallel } from '../../shared/pipeline/inParallel';
import { seconds, until, type HostClient } from './client';
import { demoSettings, reachHost, type DemoHost } from './demoHost';
import { proposalTable, totalsTable, type ProposalRow } from './report';

export interface DemoOptions {
  /** The local host; default --url, DEMO_URL, or http://localhost:{PORT or 7071}. */
  url?: string;
  /** Start a local host in this process when nothing answers at the URL (default true). */
  startHost?: boolean;
  /** Do not call Import from staging (a seam for tests: the outcome then differs from the batch). */
  skipImport?: boolean;
  /** How long to wait for the import to have its effect (default 20 s; 5 s with skipImport). */
  settleTimeoutMs?: number;
  /** Run id in the proposal ids (default: random). */
  runId?: string;
  /** Environment to read settings from (default process.env, then local.settings(.sample).json). */
  env?: NodeJS.ProcessEnv;
  /** Where output goes (default console.log). */
  print?: (line: string) => void;
}

export interface DemoResult {
  /** 0: the outcome matches the batch; 1: it differs; 2: the demo could not run. */
  exitCode: 0 | 1 | 2;
  runId: string;
  url: string;
  rows: ProposalRow[];
  differences: string[];
  elapsedMs: number;
}

class Abort extends Error {}

/**
 * `npm run demo`: sends a realistic month-end batch to a local host, runs the
 * import, posts the customer invoices through the signed callback, reads
 * everything back and reconciles it against the batch.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const { print, root, env, url, runId, runIdProblem } = demoSettings(options);
  const differences: string[] = [];
  let rows: ProposalRow[] = [];
  const result = (exitCode: DemoResult['exitCode']): DemoResult => ({
    exitCode,
    runId,
    url,
    rows,
    differences,
    elapsedMs: Date.now() - started,
  });

  if (runIdProblem) {
    print(runIdProblem);
    return result(2);
  }
  let host: DemoHost | undefined;
  let aborted = false;
  try {
    const reached = await reachHost({ root, env, url, startHost: options.startHost, print });
    if ('refused' in reached) {
      print(reached.refused);
      return result(2);
    }
    host = reached.host;
    const { client, note: hostNote } = reached;
    const outcome = await drive(client, buildBatch(runId), { ...options, print, hostNote, differences, started });
    rows = outcome;
  } catch (e) {
    aborted = true;
    print(e instanceof Abort ? e.message : `The demo failed: ${(e as Error).stack ?? e}`);
    return result(2);
  } finally {
    await host?.stop(aborted || differences.length > 0);
  }
  return result(differences.length ? 1 : 0);
}

interface DriveContext extends DemoOptions {
  print: (line: string) => void;
  hostNote: string;
  differences: string[];
  started: number;
}

async function drive(client: HostClient, batch: DemoBatch, ctx: DriveContext): Promise<ProposalRow[]> {
  const { print, differences: diff } = ctx;
  const { runId, invoices, stats } = batch;
  const mine = (text: string) =>
    text.includes(`PINV-${runId}-`) ||
    batch.invoices.some((i) => text.includes(i.header.invoiceId)) ||
    batch.costActuals.some((a) => text.includes(a.actualId));
  print(`Demo run ${runId} against ${client.url} (${ctx.hostNote})`);

  // 1. The batch, through the admin call: early actuals, then headers, then the rest.
  let t = Date.now();
  for (const phase of [1, 2, 3] as const) {
    const messages = batch.messages.filter((m) => m.phase === phase);
    await inParallel(messages, 16, async (m) => {
      const r = await client.admin(m.functionName, JSON.stringify(m.body));
      if (r.status !== 202) throw new Abort(`POST /admin/functions/${m.functionName} answered ${r.status}: ${JSON.stringify(r.body)}`);
    });
  }
  const entities = new Set(invoices.map((i) => i.header.legalEntity)).size;
  const currencies = new Set(invoices.map((i) => i.header.currency)).size;
  print(
    `  sent ${stats.headers} confirmed invoices (${entities} legal entities, ${currencies} currencies) and ${stats.billedActuals} billed sales actuals` +
      ` (${stats.beforeHeader} before their header, ${stats.optionSetCodes} with option-set codes, ${stats.neverSent} never sent), ${stats.costActuals} cost actuals, ${stats.duplicates} duplicates: ${batch.messages.length} messages in ${seconds(Date.now() - t)}`,
  );

  // 2. Wait until the local queues are drained (messages of others may keep them busy: then the proposals decide).
  t = Date.now();
  const drained = await until(20_000, async () => {
    const queues = await client.local<Record<string, number>>('queues');
    return Object.values(queues).every((n) => n === 0);
  });
  if (!drained) print(`  the local queues are still not empty after 20 s: ${JSON.stringify(await client.local('queues'))}; going on`);
  const drainedIn = Date.now() - t;
  t = Date.now();

  // 3. Import from staging (the timer, run now through the admin call); poll the proposals until it had its effect.
  // Until the demo posts them, the complete proposals are expected with their lines created.
  const reached = (views: (ProposalView | undefined)[]) =>
    views.every((v, i) => {
      const { status, reasonIncludes } = invoices[i]!.expected;
      return v && v.status === (status === 'Posted' ? 'LinesCreated' : status) && reasonIncludes.every((s) => (v.reason ?? '').includes(s));
    });
  const readProposals = () =>
    inParallel(invoices, 16, async (inv) => {
      const r = await client.proposal(inv.header.legalEntity, inv.header.proposalId);
      return r.status === 200 ? (r.body as ProposalView) : undefined;
    });
  let lastTrigger = 0;
  let views: (ProposalView | undefined)[] = [];
  const imported = await until(
    ctx.settleTimeoutMs ?? (ctx.skipImport ? 5000 : 20_000),
    async () => {
      // A run already in progress (the schedule) may have started before the last messages: ask again now and then.
      if (!ctx.skipImport && Date.now() - lastTrigger > 2000) {
        const r = await client.admin('importFromStaging', '');
        if (r.status !== 202) throw new Abort(`POST /admin/functions/importFromStaging answered ${r.status}: ${JSON.stringify(r.body)}`);
        lastTrigger = Date.now();
      }
      views = await readProposals();
      return reached(views);
    },
    250,
  );
  const count = (s: string) => views.filter((v) => v?.status === s).length;
  print(
    `  queues drained in ${seconds(drainedIn)}; ${ctx.skipImport ? 'Import from staging NOT run (--skip-import)' : 'Import from staging ran'}: ${count('LinesCreated')} proposals with lines, ${count('AwaitingLines')} awaiting lines, ${count('Error')} in error (${seconds(Date.now() - t)}${imported ? '' : ', gave up waiting for the expected outcome'})`,
  );

  // 4. Finance posts every proposal that has lines, through the signed callback.
  t = Date.now();
  const toPost = invoices.flatMap((inv, i) => (views[i]?.status === 'LinesCreated' ? [{ inv, view: views[i]! }] : []));
  const receipts = await inParallel(toPost, 8, async ({ inv, view }) => {
    const posting = postingFor(inv, view.lines);
    const r = await client.posted(inv.header.legalEntity, inv.header.proposalId, posting);
    if (r.status !== 200)
      diff.push(`${inv.header.proposalId}: the posting callback answered ${r.status}: ${r.body?.detail ?? JSON.stringify(r.body)}`);
    return { inv, posting, answer: r };
  });
  // A repeated callback (same voucher) answers as the first did.
  const first = receipts.find((r) => r.answer.status === 200);
  if (first) {
    const again = await client.posted(first.inv.header.legalEntity, first.inv.header.proposalId, first.posting);
    if (again.status !== 200 || JSON.stringify(again.body) !== JSON.stringify(first.answer.body)) {
      diff.push(
        `${first.inv.header.proposalId}: repeating the posting callback answered ${again.status} ${JSON.stringify(again.body)}, not what the first one answered (${JSON.stringify(first.answer.body)})`,
      );
    }
  }
  const postedLines = receipts.filter((r) => r.answer.status === 200).reduce((n, r) => n + r.posting.lines.length, 0);

  // 5. The accounting updates for Dataverse (outbound queue; a local table without Service Bus).
  const ours = (messages: OutboundMessage[]) => messages.filter((m) => m.body && mine(m.body.proposalId));
  const outboundIsLocal = Array.isArray(await client.local<unknown>('outbound'));
  let outbound: OutboundMessage[] = [];
  if (outboundIsLocal) {
    await until(10_000, async () => (outbound = ours(await client.local<OutboundMessage[]>('outbound'))).length >= postedLines);
  }

  // 6. Read everything back.
  views = await readProposals();
  const billed = invoices.flatMap((inv) => inv.actuals); // the never-sent one too: it must not exist
  const actualViews = await inParallel(billed, 16, async (a) => client.actual(a.legalEntity, a.actualId));
  const costViews = await inParallel(batch.costActuals, 16, async (a) => client.actual(a.legalEntity, a.actualId));
  print(
    `  posted ${receipts.length} customer invoices through the signed callback; read back ${views.filter(Boolean).length} proposals and ${[...actualViews, ...costViews].filter((r) => r.status === 200).length} actuals (${seconds(Date.now() - t)})`,
  );

  // 7. Reconcile.
  const rows = reconcile(
    batch,
    views,
    receipts.map((r) => r.posting),
    actualViews,
    costViews,
    outboundIsLocal ? outbound : undefined,
    diff,
  );
  const quarantined = (await client.local<{ source: string; reason: string; raw: string }[]>('quarantine')).filter((q) => mine(q.raw));
  for (const q of quarantined) diff.push(`quarantined (${q.source}): ${q.reason} — ${q.raw.slice(0, 120)}`);
  const deadLettered = (await client.local<{ queue: string; body: string; deadLetterReason: string }[]>('dead-letters')).filter((d) =>
    mine(d.body),
  );
  for (const d of deadLettered) diff.push(`dead-lettered on ${d.queue}: ${d.deadLetterReason} — ${d.body.slice(0, 120)}`);

  print('');
  for (const l of proposalTable(rows)) print(l);
  print('');
  for (const l of totalsTable(rows)) print(l);
  print('');
  const elapsed = seconds(Date.now() - ctx.started);
  if (!diff.length) {
    const posted = rows.filter((r) => r.status === 'Posted').length;
    const others = rows.filter((r) => r.status !== 'Posted').map((r) => `${r.proposalId} ${r.status}`);
    const updates = outboundIsLocal ? `${outbound.length} accounting updates` : 'accounting updates on Service Bus, not checked';
    print(
      `✓ PASS: matches the batch. ${posted} of ${rows.length} proposals posted (${postedLines} lines, ${postedLines} actuals with voucher, ${updates}); ${others.join(', ')} as intended. ${elapsed}`,
    );
  } else {
    print(`✗ FAIL: ${diff.length} difference${diff.length === 1 ? '' : 's'} between the batch and the outcome (${elapsed}):`);
    for (const d of diff.slice(0, 40)) print(`  - ${d}`);
    if (diff.length > 40) print(`  … and ${diff.length - 40} more`);
  }
  return rows;
}

/** Compares what the host says with what the batch implies; every difference is one line, naming the proposal or actual. */
function reconcile(
  batch: DemoBatch,
  views: readonly (ProposalView | undefined)[],
  postings: readonly ReturnType<typeof postingFor>[],
  actualViews: readonly { status: number; body: ActualView }[],
  costViews: readonly { status: number; body: ActualView }[],
  outbound: readonly OutboundMessage[] | undefined,
  diff: string[],
): ProposalRow[] {
  const postingOf = new Map(postings.map((p) => [p.voucher, p]));
  const postedActuals = new Map<string, { inv: DemoInvoice; accountingAmount: string; salesTaxAmount: string }>();
  let k = 0;
  const rows = batch.invoices.map((inv, i) => {
    const h = inv.header;
    const id = h.proposalId;
    const v = views[i];
    const before = diff.length;
    const expect = inv.expected;
    // A wrong status explains its reason, its posting and its actuals' state: one difference, not many.
    const statusRight = v?.status === expect.status;
    if (!v) {
      diff.push(`${id}: GET /api/invoice-proposals/${h.legalEntity}/${id} found nothing`);
    } else {
      if (!statusRight)
        diff.push(
          `${id}: status ${v.status} with ${v.lines.length} lines${v.reason ? ` (${v.reason})` : ''}, expected ${expect.status} with ${expect.lineCount}`,
        );
      else if (v.lines.length !== expect.lineCount) diff.push(`${id}: ${v.lines.length} lines, expected ${expect.lineCount}`);
      for (const [field, want] of [
        ['detailAmount', h.detailAmount],
        ['totalTax', h.totalTax],
        ['totalAmount', h.totalAmount],
      ] as const) {
        if (!sameAmount(v[field], want)) diff.push(`${id}: ${field} ${v[field]}, the invoice says ${want}`);
      }
      if (statusRight && expect.status === 'Posted' && v.reason !== null) diff.push(`${id}: reason "${v.reason}", expected none`);
      if (statusRight)
        for (const s of expect.reasonIncludes)
          if (!(v.reason ?? '').includes(s)) diff.push(`${id}: reason "${v.reason}" does not mention "${s}"`);
      if (v.lines.length) {
        const sum = sumMoney(v.lines.map((l) => l.amount));
        if (formatMoney(sum) !== formatMoney(sumMoney([h.detailAmount])))
          diff.push(`${id}: the lines sum to ${formatMoney(sum)}, detailAmount is ${h.detailAmount}`);
        const want = new Map(inv.actuals.map((a) => [a.actualId, a]));
        for (const l of v.lines) {
          const a = want.get(l.actualId);
          if (!a) diff.push(`${id}: line ${l.lineNumber} is actual ${l.actualId}, which the batch never put on this invoice`);
          else if (!sameAmount(a.amount, l.amount) || a.transactionClassification !== l.transactionClassification)
            diff.push(
              `${id}: line ${l.lineNumber} (${l.actualId}) is ${l.transactionClassification} ${l.amount}, the batch sent ${a.transactionClassification} ${a.amount}`,
            );
        }
        const onLines = new Set(v.lines.map((l) => l.actualId));
        for (const a of inv.actuals) if (!onLines.has(a.actualId)) diff.push(`${id}: actual ${a.actualId} is not on a line`);
        if (onLines.size !== v.lines.length) diff.push(`${id}: an actual is on more than one line`);
      }
      if (expect.status === 'Posted') {
        if (statusRight && (v.posting?.voucher !== inv.voucher || v.posting?.customerInvoiceId !== inv.customerInvoiceId))
          diff.push(
            `${id}: posting ${JSON.stringify(v.posting)}, expected voucher ${inv.voucher}, customer invoice ${inv.customerInvoiceId}`,
          );
        const posting = postingOf.get(inv.voucher);
        for (const l of posting?.lines ?? [])
          postedActuals.set(l.actualId, { inv, accountingAmount: l.accountingAmount, salesTaxAmount: l.salesTaxAmount });
      } else if (v.posting) {
        diff.push(`${id}: posted as ${v.posting.voucher}, but the batch cannot be posted (${inv.scenario})`);
      }
    }

    // The proposal's actuals: one line per actual, summarised when more than two differ.
    const actualDiffs: string[] = [];
    for (const a of inv.actuals) {
      const r = actualViews[k++]!;
      const sent = inv.sent.find((s) => s.actualId === a.actualId);
      const problem = ((): string | undefined => {
        if (!sent) return r.status === 404 ? undefined : `was never sent, yet GET /api/actuals answered ${r.status}`;
        if (r.status !== 200) return `GET /api/actuals answered ${r.status}`;
        const av = r.body as ActualView;
        if (!sameAmount(av.amount, sent.amount) || av.transactionType !== 'BilledSales')
          return `${av.transactionType} ${av.amount}, sent BilledSales ${sent.amount}`;
        if (!statusRight) return undefined;
        if (expect.status !== 'Posted') {
          return av.status === 'Pending' && av.billingStatus === null && av.accounting === null
            ? undefined
            : `${av.status}/${av.billingStatus}, expected Pending with no billing status (${inv.scenario} invoice)`;
        }
        const acc = av.accounting;
        if (av.status !== 'Processed' || av.billingStatus !== 'CustomerInvoicePosted' || !acc)
          return `${av.status}/${av.billingStatus}${acc ? '' : ' without accounting'}, expected Processed/CustomerInvoicePosted with voucher ${inv.voucher}`;
        const p = postedActuals.get(a.actualId);
        if (acc.voucher !== inv.voucher) return `accounting voucher ${acc.voucher}, expected ${inv.voucher}`;
        if (
          p &&
          (!sameAmount(acc.accountingAmount, p.accountingAmount) ||
            !sameAmount(acc.salesTaxAmount, p.salesTaxAmount) ||
            acc.accountingCurrency !== inv.accountingCurrency ||
            acc.exchangeRate !== inv.exchangeRate)
        ) {
          return `accounting ${acc.accountingAmount}/${acc.salesTaxAmount} ${acc.accountingCurrency} @${acc.exchangeRate}, posted ${p.accountingAmount}/${p.salesTaxAmount} ${inv.accountingCurrency} @${inv.exchangeRate}`;
        }
        return undefined;
      })();
      if (problem) actualDiffs.push(`actual ${a.actualId} ${problem}`);
    }
    if (actualDiffs.length <= 2) diff.push(...actualDiffs.map((d) => `${id}: ${d}`));
    else diff.push(`${id}: ${actualDiffs.length} of its ${inv.actuals.length} actuals differ, e.g. ${actualDiffs[0]}`);

    return {
      proposalId: id,
      legalEntity: v?.legalEntity ?? h.legalEntity,
      currency: v?.currency ?? h.currency,
      customer: v?.customerAccount ?? h.customerAccount,
      status: v?.status ?? 'missing',
      lines: v?.lines.length ?? 0,
      detailAmount: v?.detailAmount ?? h.detailAmount,
      voucher: v?.posting?.voucher ?? null,
      reason: v?.reason ?? null,
      ok: diff.length === before,
    };
  });

  batch.costActuals.forEach((a, i) => {
    const r = costViews[i]!;
    const name = `cost actual ${a.actualId}`;
    if (r.status !== 200) diff.push(`${name}: GET /api/actuals answered ${r.status}`);
    else if (r.body.status !== 'NotForInvoice' || r.body.billingStatus !== null || !sameAmount(r.body.amount, a.amount))
      diff.push(
        `${name}: ${r.body.status}/${r.body.billingStatus} ${r.body.amount}, expected NotForInvoice, no billing status, ${a.amount}`,
      );
  });

  if (outbound) {
    const byActual = new Map<string, OutboundMessage[]>();
    for (const m of outbound) byActual.set(m.body.actualId, [...(byActual.get(m.body.actualId) ?? []), m]);
    for (const [actualId, p] of postedActuals) {
      const ms = byActual.get(actualId) ?? [];
      if (ms.length !== 1) diff.push(`${p.inv.header.proposalId}: ${ms.length} accounting updates for actual ${actualId}, expected 1`);
      const b = ms[0]?.body;
      if (
        b &&
        (b.voucher !== p.inv.voucher ||
          !sameAmount(b.accountingAmount, p.accountingAmount) ||
          !sameAmount(b.salesTaxAmount, p.salesTaxAmount) ||
          b.billingStatus !== 'CustomerInvoicePosted')
      ) {
        diff.push(
          `${p.inv.header.proposalId}: accounting update for ${actualId} says ${b.voucher} ${b.accountingAmount}/${b.salesTaxAmount} ${b.billingStatus}, posted ${p.inv.voucher} ${p.accountingAmount}/${p.salesTaxAmount}`,
        );
      }
    }
    for (const [actualId, ms] of byActual)
      if (!postedActuals.has(actualId))
        diff.push(`${ms.length} accounting update(s) for actual ${actualId} of ${ms[0]!.body.proposalId}, which was not posted`);
  }
  return rows;
}
