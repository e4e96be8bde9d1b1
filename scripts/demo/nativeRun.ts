import type { Posting } from '../../shared/contracts/posting';
import type { ProposalView } from '../../shared/domain/views';
import type { DataverseSimulator } from '../../test/dataverse/simulator/server';
import { seconds, until, type HostClient } from './client';
import {
  createBilledActual,
  createInvoice,
  createReferenceData,
  DataverseWebApi,
  DEMO_USER_AGENT,
  markAdjusted,
  PROJECT_INVOICE_STATUS,
  setInvoiceStatus,
  writtenBack,
} from './dataverseRecords';
import { demoSettings, reachHost, type DemoHost } from './demoHost';
import { forPeople } from './money';
import { actualAdjusted, actualCreated, invoiceStatusChanged, type NativeMessage } from './nativeMessages';
import { buildMonthEnd, legalEntityOf, type MonthEnd, type ProjectInvoice } from './nativeMonthEnd';
import type { DemoOptions } from './run';
import { writeBackDifferences, writeBackTable, type PostedActual } from './writeBackReport';

/** The contract demo's options that mean the same here, and the Dataverse to use. */
export type NativeDemoOptions = Pick<DemoOptions, 'url' | 'startHost' | 'runId' | 'env' | 'print'> & {
  /** A Dataverse (stand-in) already running, which the host's DATAVERSE_URL names; default DATAVERSE_URL; else the demo starts the stand-in. */
  dataverseUrl?: string;
};

export interface NativeDemoResult {
  exitCode: 0 | 1 | 2;
  runId: string;
  differences: string[];
}

class Abort extends Error {}

/**
 * `npm run demo:dataverse`: the month-end story from Dataverse's own side. The
 * records are created in the Dataverse Web API stand-in as Project Operations
 * would; the service endpoint's messages for them go through the admin call;
 * Finance posts through the signed callback; and at the end every posted
 * actual's row in Dataverse is read back and compared with what was posted.
 */
export async function runNativeDemo(options: NativeDemoOptions = {}): Promise<NativeDemoResult> {
  const { print, root, env, url, runId, runIdProblem } = demoSettings(options);
  const differences: string[] = [];
  if (runIdProblem) {
    print(runIdProblem);
    return { exitCode: 2, runId, differences };
  }
  let standIn: DataverseSimulator | undefined;
  let host: DemoHost | undefined;
  let aborted = false;
  try {
    let dataverseUrl = options.dataverseUrl ?? (env.DATAVERSE_URL || undefined);
    if (!dataverseUrl) {
      const { startDataverseSimulator } = await import('../../test/dataverse/simulator/server');
      standIn = await startDataverseSimulator();
      dataverseUrl = standIn.url;
    }
    const reached = await reachHost({
      root,
      env,
      url,
      startHost: options.startHost,
      print,
      hostEnv: { DATAVERSE_URL: dataverseUrl, 'AzureWebJobs.writeBackAccounting.Disabled': 'false' },
      note: `, DATAVERSE_URL=${dataverseUrl}, writeBackAccounting on`,
    });
    if ('refused' in reached) throw new Abort(reached.refused);
    if (reached.alreadyRunning && standIn) throw new Abort(alreadyRunningHint(url));
    host = reached.host;
    print(`Native demo run ${runId} against ${reached.client.url} (${reached.note})`);
    print(`  Dataverse: ${standIn ? `the Web API stand-in started by the demo at ${dataverseUrl} (not Dataverse)` : dataverseUrl}`);
    await drive(reached.client, new DataverseWebApi(dataverseUrl), buildMonthEnd(runId), standIn, print, differences);
  } catch (e) {
    aborted = true;
    print(e instanceof Abort ? e.message : `The demo failed: ${(e as Error).stack ?? e}`);
  } finally {
    await host?.stop(aborted || differences.length > 0);
    await standIn?.close();
  }
  return { exitCode: aborted ? 2 : differences.length ? 1 : 0, runId, differences };
}

function alreadyRunningHint(url: string): string {
  return [
    `A host already answers at ${url}, and it cannot know the Dataverse stand-in this demo would start. Either stop it (the demo then starts its own), or:`,
    `  1. npx tsx test/dataverse/simulator/main.ts --port 7072      (prints DATAVERSE_URL=http://127.0.0.1:7072)`,
    `  2. in local.settings.json set "DATAVERSE_URL": "http://127.0.0.1:7072" and "AzureWebJobs.writeBackAccounting.Disabled": "false"; restart npm start`,
    `  3. npm run demo:dataverse -- --dataverse-url http://127.0.0.1:7072`,
  ].join('\n');
}

async function send(client: HostClient, messages: readonly NativeMessage[]): Promise<void> {
  for (const m of messages) {
    const r = await client.admin(m.functionName, m.text);
    if (r.status !== 202)
      throw new Abort(`POST /admin/functions/${m.functionName} (${m.what}) answered ${r.status}: ${JSON.stringify(r.body)}`);
  }
}

/** Runs Import from staging until every invoice's proposal has its lines (or 20 s have passed). */
async function importUntilLines(client: HostClient, invoices: readonly ProjectInvoice[]): Promise<(ProposalView | undefined)[]> {
  let views: (ProposalView | undefined)[] = [];
  let lastTrigger = 0;
  await until(
    20_000,
    async () => {
      if (Date.now() - lastTrigger > 2000) {
        const r = await client.admin('importFromStaging', '');
        if (r.status !== 202) throw new Abort(`POST /admin/functions/importFromStaging answered ${r.status}`);
        lastTrigger = Date.now();
      }
      views = await Promise.all(invoices.map((inv) => proposalOf(client, inv)));
      return views.every((v) => v?.status === 'LinesCreated');
    },
    250,
  );
  return views;
}

async function proposalOf(client: HostClient, inv: ProjectInvoice): Promise<ProposalView | undefined> {
  const r = await client.proposal(legalEntityOf(inv), inv.number);
  return r.status === 200 ? (r.body as ProposalView) : undefined;
}

/** Finance posts the proposal: in the company's own currency (rate 1), with the tax Project Operations put on each actual. */
async function post(client: HostClient, inv: ProjectInvoice, view: ProposalView | undefined, diff: string[]): Promise<boolean> {
  if (view?.status !== 'LinesCreated') {
    diff.push(`${inv.number}: ${view ? `${view.status}${view.reason ? ` (${view.reason})` : ''}` : 'no proposal'}, expected its lines`);
    return false;
  }
  const tax = new Map(inv.actuals.map((a) => [a.id, a.tax]));
  const posting: Posting = {
    customerInvoiceId: inv.customerInvoiceId,
    voucher: inv.voucher,
    accountingDate: inv.invoiceDate,
    accountingCurrency: inv.contract.company.currency.isoCode,
    exchangeRate: '1',
    lines: view.lines.map((l) => ({ actualId: l.actualId, accountingAmount: l.amount, salesTaxAmount: tax.get(l.actualId) ?? '0.00' })),
  };
  const r = await client.posted(legalEntityOf(inv), inv.number, posting);
  if (r.status !== 200) diff.push(`${inv.number}: the posting callback answered ${r.status}: ${r.body?.detail ?? JSON.stringify(r.body)}`);
  return r.status === 200;
}

async function drive(
  client: HostClient,
  api: DataverseWebApi,
  monthEnd: MonthEnd,
  standIn: DataverseSimulator | undefined,
  print: (line: string) => void,
  diff: string[],
): Promise<void> {
  const started = Date.now();
  const { invoices, correction } = monthEnd;
  const [first, second] = invoices as [ProjectInvoice, ProjectInvoice, ...ProjectInvoice[]];

  // 1. What Dataverse holds at month-end: reference data, Draft invoices and their billed sales actuals, then confirmation.
  let t = Date.now();
  const referenceRows = await createReferenceData(api, monthEnd);
  const created: NativeMessage[] = [];
  for (const inv of invoices) {
    await createInvoice(api, inv);
    for (const a of inv.actuals) created.push(actualCreated(inv, a, await createBilledActual(api, inv, a)));
  }
  const inReview = invoiceStatusChanged(
    first,
    PROJECT_INVOICE_STATUS.InReview,
    await setInvoiceStatus(api, first, PROJECT_INVOICE_STATUS.InReview),
    'In Review',
  );
  const confirmed: NativeMessage[] = [];
  for (const inv of invoices)
    confirmed.push(
      invoiceStatusChanged(
        inv,
        PROJECT_INVOICE_STATUS.Confirmed,
        await setInvoiceStatus(api, inv, PROJECT_INVOICE_STATUS.Confirmed),
        'Confirmed',
      ),
    );
  const actualCount = invoices.reduce((n, i) => n + i.actuals.length, 0);
  print(
    `  created in Dataverse through its Web API: ${referenceRows} reference rows, ${invoices.length} invoices, ${actualCount} billed sales actuals; ${first.number} went through In Review, then all were confirmed (${seconds(Date.now() - t)})`,
  );

  // 2. The service endpoint's messages: some actuals before their invoice, a status update that confirms nothing, the rest after.
  t = Date.now();
  const early = created.filter((m) => second.actuals.some((a) => m.what.includes(a.id)) || m.what.includes(first.actuals[0]!.id));
  const late = created.filter((m) => !early.includes(m));
  await send(client, [...early, inReview, ...confirmed, ...late]);
  print(
    `  sent ${early.length + late.length + 1 + confirmed.length} RemoteExecutionContext messages through the admin call: ${early.length} actuals before their invoice, 1 In Review update (not a confirmation), ${confirmed.length} confirmations, ${late.length} actuals after (${seconds(Date.now() - t)})`,
  );

  // 3. Import from staging, then Finance posts.
  t = Date.now();
  const views = await importUntilLines(client, invoices);
  const posted: ProjectInvoice[] = [];
  for (const [i, inv] of invoices.entries()) if (await post(client, inv, views[i], diff)) posted.push(inv);
  print(
    `  Import from staging: ${views.filter((v) => v?.status === 'LinesCreated').length} of ${invoices.length} proposals with lines; posted ${posted.length} through the signed callback (${seconds(Date.now() - t)})`,
  );

  // 4. The write-back: every posted actual's row carries its voucher.
  t = Date.now();
  const landedAll = async (list: readonly ProjectInvoice[]) =>
    (await Promise.all(list.flatMap((inv) => inv.actuals.map(async (a) => (await writtenBack(api, a.id)).voucher === inv.voucher)))).every(
      Boolean,
    );
  const written = await until(20_000, () => landedAll(posted), 250);
  print(
    written
      ? `  write-back: every posted actual carries its voucher in Dataverse (${seconds(Date.now() - t)})`
      : `  write-back: NOT every posted actual carries its voucher after 20 s. Is the host's writeBackAccounting on and its DATAVERSE_URL this Dataverse? (npm start reads both from local.settings.json)`,
  );

  // 5. The correction, as Project Operations makes it: a corrective invoice with a reversal and a re-billed actual; the original marked Adjusted.
  t = Date.now();
  const corrective = correction.invoice;
  await createInvoice(api, corrective);
  const correctiveActuals: NativeMessage[] = [];
  for (const a of corrective.actuals) correctiveActuals.push(actualCreated(corrective, a, await createBilledActual(api, corrective, a)));
  const adjusted = actualAdjusted(first, correction.adjusted, await markAdjusted(api, correction.adjusted));
  const correctiveConfirmed = invoiceStatusChanged(
    corrective,
    PROJECT_INVOICE_STATUS.Confirmed,
    await setInvoiceStatus(api, corrective, PROJECT_INVOICE_STATUS.Confirmed),
    'Confirmed',
  );
  const firstBefore = await proposalOf(client, first);
  await send(client, [adjusted, ...correctiveActuals, correctiveConfirmed]);
  const [correctiveView] = await importUntilLines(client, [corrective]);
  const firstAfter = await proposalOf(client, first);
  if (JSON.stringify(firstAfter) !== JSON.stringify(firstBefore))
    diff.push(
      `${first.number}: the Adjusted update of ${correction.adjusted.id} changed the posted proposal (${firstBefore?.status} → ${firstAfter?.status})`,
    );
  const correctivePosted = await post(client, corrective, correctiveView, diff);
  if (correctivePosted && !(await until(written ? 20_000 : 0, () => landedAll([corrective]), 250)))
    diff.push(`${corrective.number}: the write-back did not land within 20 s`);
  print(
    `  correction: ${corrective.number} (${correctiveView?.invoiceType ?? 'no proposal'}, ${forPeople(corrective.detailAmount)} ${corrective.contract.company.currency.isoCode}): a reversal of ${forPeople(correction.reversal.amount)} and ${forPeople(correction.rebilled.amount)} billed again; ` +
      `${correction.adjusted.id} marked Adjusted (ignored: ${first.number} unchanged); ${correctivePosted ? 'posted' : 'NOT posted'} (${seconds(Date.now() - t)})`,
  );

  // 6. Per actual: what was posted, and what landed back in Dataverse.
  const report: PostedActual[] = [];
  for (const inv of [...posted, ...(correctivePosted ? [corrective] : [])])
    for (const a of inv.actuals)
      report.push({ invoice: inv, actual: a, adjusted: a.id === correction.adjusted.id, landed: await writtenBack(api, a.id) });
  for (const p of report) diff.push(...writeBackDifferences(p));
  // Nothing of this run may be quarantined or dead-lettered: the In Review and Adjusted updates are completed as ignored.
  const ours = (body: string) => body.includes(monthEnd.runId) || report.some((p) => body.includes(p.actual.id));
  for (const q of (await client.local<{ reason: string; raw: string }[]>('quarantine')).filter((q) => ours(q.raw)))
    diff.push(`quarantined: ${q.reason}`);
  for (const d of (await client.local<{ queue: string; deadLetterReason: string; body: string }[]>('dead-letters')).filter((d) =>
    ours(d.body),
  ))
    diff.push(`dead-lettered on ${d.queue}: ${d.deadLetterReason}`);
  print('');
  for (const l of writeBackTable(report)) print(l);
  print('');
  print(`  ${writeBackRequests(standIn)}`);
  if (!diff.length)
    print(
      `✓ PASS: ${report.length} posted actuals, each with its voucher and accounting date in Dataverse. ${seconds(Date.now() - started)}`,
    );
  else {
    print(`✗ FAIL: ${diff.length} difference${diff.length === 1 ? '' : 's'}:`);
    for (const d of diff) print(`  - ${d}`);
  }
}

/** The write-back's own traffic in the stand-in's request log: its PATCHes and $batch requests (the app's lookups are GETs; the demo's requests carry its user agent). */
function writeBackRequests(standIn: DataverseSimulator | undefined): string {
  if (!standIn) return 'Web API requests of the write-back: not counted (the stand-in runs in another process; its request log is there)';
  const requests = standIn.requests.filter(
    (r) => r.headers['user-agent'] !== DEMO_USER_AGENT && (r.method === 'PATCH' || r.url.startsWith('$batch')),
  );
  const batches = requests.filter((r) => r.url.startsWith('$batch')).length;
  const patches = standIn.operations.filter((o) => o.via === 'batch' && o.method === 'PATCH');
  const conditional = patches.every((o) => o.headers['if-match'] === '*');
  return `the write-back made ${requests.length} Web API requests, ${batches} of them $batch, carrying ${patches.length} PATCH msdyn_actuals${conditional ? ' (all If-Match: *)' : ''}`;
}
