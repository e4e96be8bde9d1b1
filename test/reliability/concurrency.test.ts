/**
 * Issue 4, part 2: concurrency across processes. Import runs overlap when a
 * timer fires on several instances (or a run outlasts its interval), and
 * Service Bus hands copies of one message to different instances. Each case
 * runs real pipeline steps in separate Node processes (test/support/
 * reliabilityWorker.ts) over the same Azurite tables, started at the same
 * instant, and checks that every line exists exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actual } from '../../shared/contracts/actual';
import type { ConfirmedInvoice } from '../../shared/contracts/invoiceProposal';
import { formatMoney, sumMoney } from '../../shared/contracts/money';
import { importFromStaging } from '../../shared/pipeline/importFromStaging';
import { readProposal } from '../../shared/pipeline/readModels';
import type { Runtime } from '../../shared/runtime';
import type { PipelinePolicy } from '../support/reliabilityWorker';
import { proposalWithActuals } from '../support/builders';
import { isHeaderRow } from '../../shared/storage/proposalRows';
import {
  actualMessage,
  deliver,
  dropTables,
  headerMessage,
  isolatedRuntime,
  messageFile,
  orphanLines,
  quiet,
  runWorkersTogether,
  snapshot,
  startWorker,
  storedLines,
  violations,
  type Message,
} from '../support/reliability';

type Env = Record<string, string>;

function batchMessages(tag: string, sizes: number[]) {
  const proposals = sizes.map((lines, i) =>
    proposalWithActuals({
      proposalId: `${tag}-${i}-${lines}`,
      lines,
      legalEntity: i % 2 ? 'DEMF' : 'usmf',
      currency: i % 2 ? 'EUR' : 'USD',
    }),
  );
  const messages: Message[] = proposals.flatMap((p) => [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]);
  return { proposals, messages };
}

async function deliverAll(rt: Runtime, messages: readonly Message[], parallel = 16) {
  for (let i = 0; i < messages.length; i += parallel) await Promise.all(messages.slice(i, i + parallel).map((m) => deliver(rt, m)));
}

function lineRowsByProposal(rows: Awaited<ReturnType<typeof snapshot>>['proposals']) {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.partitionKey, (counts.get(r.partitionKey) ?? 0) + storedLines([r]));
  return counts;
}

describe('concurrency: pipeline steps in separate processes over the same tables', () => {
  let rt: Runtime & { env: Env };
  beforeAll(async () => {
    rt = await isolatedRuntime();
  });
  afterAll(async () => {
    if (rt) await dropTables(rt);
  });

  it('three import processes started at once over the same pending work write every line exactly once', async () => {
    // Sizes around the 100-operation transaction limit: 1 batch, exactly full, one over, several.
    const { proposals, messages } = batchMessages('imp', [1, 7, 49, 99, 100, 101, 250]);
    await deliverAll(rt, messages);

    // concurrency 1 makes the processes walk the shards in the same order: they collide on every proposal.
    const runs = await runWorkersTogether(
      [
        { cmd: 'import', concurrency: 1 },
        { cmd: 'import', concurrency: 1 },
        { cmd: 'import', concurrency: 4 },
      ],
      rt.env,
    );
    for (const r of runs) expect(r.signal, r.stderr).toBeNull();
    const succeeded = runs.filter((r) => r.code === 0);
    // A run that loses every optimistic retry throws (Service Bus / the timer runs it again); at least one must finish.
    expect(succeeded.length, JSON.stringify(runs.map((r) => r.error ?? r.result))).toBeGreaterThanOrEqual(1);
    const written = succeeded.reduce((n, r) => n + (r.result as { linesWritten: number }).linesWritten, 0);
    console.log(
      `concurrent imports: ${runs.length} processes, ${succeeded.length} finished, ${written} line writes planned for ${proposals.reduce((n, p) => n + p.actuals.length, 0)} lines`,
    );

    // Whatever the processes left undone, the next run finishes; a run after that has nothing to do.
    await importFromStaging(rt, quiet);
    const again = await importFromStaging(rt, quiet);
    expect(again.proposals).toBe(0);

    expect(await violations(rt, messages)).toEqual([]);
    const state = await snapshot(rt);
    expect(state.staging).toEqual([]);
    expect(orphanLines(state)).toEqual([]);
    const lines = lineRowsByProposal(state.proposals);
    for (const p of proposals) {
      const pk = state.proposals.find(
        (r) => isHeaderRow(r.rowKey) && (r.json as { invoice: ConfirmedInvoice }).invoice.proposalId === p.invoice.proposalId,
      )!.partitionKey;
      expect(lines.get(pk) ?? 0, `line rows of ${p.invoice.proposalId}`).toBe(p.actuals.length);
    }
  });

  it('copies of one actual, and several versions of one actual, delivered by three processes at once are registered and lined once', async () => {
    const p = proposalWithActuals({ proposalId: 'same-actual', lines: 3 });
    const [a1, a2, a3] = p.actuals as [Actual, Actual, Actual];
    // a3 arrives in versions 1..4; only version 4 counts, and the header's totals follow it.
    const a3Versions = [1, 2, 3, 4].map((version) => ({
      ...a3,
      version,
      amount: `${100 + version}.00`,
      price: `${100 + version}.00`,
      quantity: '1',
    }));
    const detail = formatMoney(sumMoney([a1.amount, a2.amount, a3Versions[3]!.amount]));
    const header = { ...p.invoice, detailAmount: detail, totalAmount: detail };
    const copies: Message[] = [
      ...Array.from({ length: 4 }, () => actualMessage(a1)),
      ...a3Versions.map(actualMessage),
      actualMessage(a2),
      headerMessage(header),
    ];
    const files = [copies, [...copies].reverse(), [...copies.slice(4), ...copies.slice(0, 4)]].map(messageFile);
    const children = files.map((file) => startWorker({ cmd: 'deliver', file, parallel: 4 }, rt.env));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    // ...and the same copies in this process, at the same time, with an import racing them.
    await Promise.all([...copies.map((m) => deliver(rt, m)), importFromStaging(rt, quiet)]);
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) expect(r.code, r.error ?? r.stderr).toBe(0);
    await importFromStaging(rt, quiet);

    const final = [header, a1, a2, a3Versions[3]!].map((b) => ('actualId' in b ? actualMessage(b) : headerMessage(b)));
    expect(await violations(rt, final)).toEqual([]);
    const state = await snapshot(rt);
    const register = state.actuals.filter((r) => String(r.partitionKey).includes('same-actual'));
    expect(register).toHaveLength(3);
    expect(register.map((r) => (r.json as Actual).version).sort()).toEqual([1, 1, 4]);
    const partition = state.proposals.filter((r) => String(r.partitionKey).endsWith('|same-actual'));
    expect(storedLines(partition)).toBe(3);
    // The lines carry the actuals (docs/storage.md, "Lines carry the actuals"): nothing is left parked beside them.
    expect(partition.filter((r) => r.rowKey.startsWith('actual|'))).toEqual([]);
    expect(state.staging).toEqual([]);
    expect(state.quarantine).toEqual([]);
  });

  it('versions of one header delivered by three processes at once: the highest wins, lower ones are stale, lines follow it', async () => {
    const p = proposalWithActuals({ proposalId: 'same-header', lines: 5 });
    // Versions 1..6 alternate between a transaction count the actuals meet and one they do not.
    const versions: ConfirmedInvoice[] = [1, 2, 3, 4, 5, 6].map((version) => ({
      ...p.invoice,
      version,
      description: `version ${version}`,
      ...(version % 2 ? { transactionCount: 6 } : {}),
    }));
    const actuals = p.actuals.map(actualMessage);
    const headers = versions.map(headerMessage);
    const files = [headers, [...headers].reverse(), [headers[2]!, headers[5]!, headers[0]!, headers[3]!, headers[1]!, headers[4]!]].map(
      messageFile,
    );
    await Promise.all(actuals.map((m) => deliver(rt, m)));
    const children = files.map((file) => startWorker({ cmd: 'deliver', file, parallel: 3 }, rt.env));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const importing = (async () => {
      for (let i = 0; i < 3; i++) await importFromStaging(rt, quiet);
    })();
    await Promise.all([...headers.map((m) => deliver(rt, m)), importing]);
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) expect(r.code, r.error ?? r.stderr).toBe(0);
    const outcomes = results.map((r) => r.result as Record<string, number>);
    expect(
      outcomes.reduce((n, o) => n + (o.stale ?? 0), 0),
      'lower versions arriving after a higher one are stale',
    ).toBeGreaterThan(0);
    await importFromStaging(rt, quiet);

    expect(await violations(rt, [...actuals, ...headers])).toEqual([]);
    const state = await snapshot(rt);
    const partition = state.proposals.filter((r) => String(r.partitionKey).endsWith('|same-header'));
    const header = partition.find((r) => isHeaderRow(r.rowKey))!.json as { invoice: ConfirmedInvoice; status: string };
    expect(header.invoice.version).toBe(6);
    expect(header.invoice.description).toBe('version 6');
    expect(header.status).toBe('LinesCreated');
    expect(storedLines(partition)).toBe(5);
    expect(orphanLines(state)).toEqual([]);
    expect(state.quarantine).toEqual([]);
  });

  it('a GET racing a rebuild shows the old lines or the new ones, never part of them', async () => {
    const p = proposalWithActuals({ proposalId: 'read-race', lines: 3 });
    await deliverAll(rt, [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]);
    await importFromStaging(rt, quiet);

    // A reader whose query for the lines is held until the rebuild below has flipped the header and
    // deleted the old build: the worst moment for a read that is two requests (header, then lines).
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = 0;
    const holdLineQueries: PipelinePolicy = {
      name: 'holdLineQueries',
      async sendRequest(request, next) {
        if (request.method === 'GET' && decodeURIComponent(request.url).includes("'line|") && held++ === 0) await gate;
        return next(request);
      },
    };
    const reader = await isolatedRuntime({ storage: { additionalPolicies: [{ policy: holdLineQueries, position: 'perCall' }] } }, rt.env);
    const reading = readProposal(reader, 'usmf', 'read-race');
    while (!held) await new Promise((r) => setTimeout(r, 5));

    // Same amount, new version: a new build with the same totals, so the proposal stays LinesCreated throughout.
    await deliver(rt, actualMessage({ ...p.actuals[0]!, version: 2, documentDate: '2026-11-28' }));
    await importFromStaging(rt, quiet);
    release();

    const view = (await reading)!;
    expect(view.status).toBe('LinesCreated');
    expect(view.lines, 'all of the lines, not part of them').toHaveLength(3);
    expect(view.lines.find((l) => l.actualId === p.actuals[0]!.actualId)).toBeDefined();
  });
});
