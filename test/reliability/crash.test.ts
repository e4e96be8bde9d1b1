/**
 * Issue 4, part 3: crash safety. Import from staging runs in a child process
 * that is killed with SIGKILL at chosen or random points: before any of the
 * table transactions of a proposal whose lines fill more than 200 rows, at the n-th
 * storage request (before it is sent, or after storage applied it but before
 * the process learns so), during the clean-up of a superseded build, or at a
 * random time. After every kill no proposal may show part of its lines; after
 * the next clean run no line is lost or doubled, nothing stays staged and no
 * line row of a dead build is left behind.
 *
 * Kill points come from a seeded generator; the seed is printed, and
 * CRASH_SEED=<seed> replays a run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actual, BilledSalesActual } from '../../shared/contracts/actual';
import type { ConfirmedInvoice } from '../../shared/contracts/invoiceProposal';
import { formatMoney, sumMoney } from '../../shared/contracts/money';
import { numberLines } from '../../shared/domain/importPlan';
import { importFromStaging } from '../../shared/pipeline/importFromStaging';
import { importRequested } from '../../shared/pipeline/importRequest';
import { QUEUES } from '../../shared/queues';
import { readProposal } from '../../shared/pipeline/readModels';
import { proposalPartition } from '../../shared/storage/keys';
import { linePageEntities } from '../../shared/storage/proposalRows';
import type { Runtime } from '../../shared/runtime';
import { proposalWithActuals } from '../support/builders';
import { expectStateListsAgree } from '../support/stateIndex';
import {
  actualMessage,
  deliver,
  dropTables,
  headerMessage,
  isolatedEnvironment,
  isolatedRuntime,
  orphanLines,
  quiet,
  snapshot,
  expectedState,
  startWorker,
  storedLines,
  violations,
  type Message,
  type WorkerRun,
} from '../support/reliability';
import type { DeliveryStep, WorkerJob } from '../support/reliabilityWorker';
import { messageFile, deliverUntilCompleted } from '../support/reliability';
import { GUID } from '../support/builders';

// With the fast path's MIN_FAST_KILLS, at least 20 import processes are killed per run.
const MIN_KILLS = 16 * Math.max(1, Number(process.env.RELIABILITY_RUNS ?? '1') || 1);
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded generator, so a failing sequence of kill points can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

interface Kill {
  label: string;
  job: WorkerJob;
  /** Kill from outside after this many milliseconds instead of (or as well as) a kill point. */
  afterMs?: number;
}

/**
 * The import that is killed: the scheduled run over everything staged, or the fast path's import of the
 * one proposal a request names (the importProposal function). The fast path has fewer kills (the same
 * kinds of kill point, on the big proposal), to keep the suite's time.
 */
type ImportPath = 'scheduled' | 'fast path';
/** Characters of JSON per page of lines in these runs: two lines of the builders' fixtures (about 410 each). */
const CRASH_PAGE_CHARS = 900;
const MIN_FAST_KILLS = 4 * Math.max(1, Number(process.env.RELIABILITY_RUNS ?? '1') || 1);

describe.each<ImportPath>(['scheduled', 'fast path'])('crash safety: %s import processes killed with SIGKILL at random points', (path) => {
  const minKills = path === 'scheduled' ? MIN_KILLS : MIN_FAST_KILLS;
  let rt: Runtime & { env: Record<string, string> };
  const random = prng(SEED);
  const log: string[] = [];
  let kills = 0;
  let completed = 0;

  /** The next import process, started ahead and waiting, so its start-up overlaps the checks of the last one. */
  let spare: WorkerRun | undefined;

  beforeAll(async () => {
    // Pages of about two lines (the product's hold about 24): the big proposal's build then spans three
    // transactions, as a 5,000-line invoice's does, and every build still has pages of several lines.
    rt = await isolatedRuntime({}, { ...isolatedEnvironment(), TEST_PAGE_CHARS: String(CRASH_PAGE_CHARS) });
  });
  afterAll(async () => {
    console.log(
      `crash (${path} import): seed ${SEED} (CRASH_SEED=${SEED} replays it), ${kills} import processes killed, ${completed} ran to the end before their kill point\n  ${log.join('\n  ')}`,
    );
    spare?.child.kill('SIGKILL');
    if (rt) await dropTables(rt);
  });

  type KillPoints = Pick<Extract<WorkerJob, { cmd: 'import' }>, 'killAtBatch' | 'killAtRequest'>;
  /** The import job of this path: the fast path imports the named proposal (the big one, where the kill points are). */
  const importJob = (kill: KillPoints, proposal: { legalEntity: string; proposalId: string }): WorkerJob =>
    path === 'scheduled' ? { cmd: 'import', ...kill } : { cmd: 'importRequest', ...proposal, ...kill };

  /** What runs to the end after the kills: the scheduled run, or one fast-path request per proposal. */
  async function cleanImport(proposals: Iterable<{ legalEntity: string; proposalId: string }>) {
    if (path === 'scheduled') return void (await importFromStaging(rt, quiet));
    for (const p of proposals) {
      const body = JSON.stringify({ legalEntity: p.legalEntity, proposalId: p.proposalId });
      await importRequested(rt, { source: QUEUES.importRequests, messageId: `clean-${p.proposalId}`, body }, quiet);
    }
  }

  /** Runs one import process with a kill point; true when it was killed. */
  async function killedImport(kill: Kill): Promise<boolean> {
    const worker = spare ?? startWorker(undefined, rt.env);
    spare = startWorker(undefined, rt.env);
    await worker.ready;
    worker.go(kill.job);
    const timer = kill.afterMs !== undefined ? setTimeout(() => worker.child.kill('SIGKILL'), kill.afterMs) : undefined;
    const end = await worker.done;
    clearTimeout(timer);
    if (end.signal === 'SIGKILL') {
      kills++;
      log.push(`killed: ${kill.label}`);
      return true;
    }
    expect(end.code, `${kill.label}: ${end.error ?? end.stderr}`).toBe(0);
    completed++;
    log.push(`finished before its kill point: ${kill.label}`);
    return false;
  }

  /** Right after a kill: every proposal shows all of its lines or none, and shown lines sum to detailAmount. */
  async function noHalfProposal(proposals: readonly { legalEntity: string; proposalId: string }[], when: string) {
    for (const p of proposals) {
      const view = await readProposal(rt, p.legalEntity, p.proposalId);
      if (!view || !view.lines.length) continue;
      expect(view.lines.length, `${when}: ${p.proposalId} shows part of its lines`).toBe(view.transactionCount);
      expect(formatMoney(sumMoney(view.lines.map((l) => l.amount))), `${when}: ${p.proposalId} lines vs detailAmount`).toBe(
        formatMoney(sumMoney([view.detailAmount])),
      );
      expect(new Set(view.lines.map((l) => l.actualId)).size).toBe(view.lines.length);
    }
  }

  /**
   * After a clean run: nothing lost, nothing doubled, nothing left behind. `full` reads every actual back
   * through GET /api/actuals as well (the per-proposal checks and the raw rows already cover lines).
   */
  async function settled(messages: readonly Message[], when: string, full = true) {
    const expected = expectedState(messages);
    await cleanImport(expected.proposals.values());
    if (full) expect(await violations(rt, messages), when).toEqual([]);
    const state = await snapshot(rt);
    for (const p of expected.proposals.values()) {
      const view = (await readProposal(rt, p.legalEntity, p.proposalId))!;
      expect(view.status, `${when}: ${p.proposalId}`).toBe(p.status);
      if (p.status !== 'LinesCreated') continue;
      const amounts = new Map(p.actuals.map((a) => [a.actualId, a.amount]));
      expect(
        view.lines.map((l) => `${l.actualId} ${l.amount}`).sort(),
        `${when}: ${p.proposalId} has each latest actual on exactly one line`,
      ).toEqual([...amounts].map(([id, amount]) => `${id} ${amount}`).sort());
      const pk = proposalPartition(p.legalEntity, p.proposalId);
      expect(storedLines(state.proposals.filter((r) => r.partitionKey === pk)), `${when}: ${p.proposalId} stored lines`).toBe(
        p.actuals.length,
      );
    }
    expect(state.staging, `${when}: nothing stays staged`).toEqual([]);
    expect(
      orphanLines(state).map((r) => r.rowKey),
      `${when}: no line row of a superseded build is left behind`,
    ).toEqual([]);
    expect(state.quarantine, `${when}: nothing refused`).toEqual([]);
  }

  it(`keeps every line exactly once through at least ${minKills} killed import processes`, async () => {
    const big = proposalWithActuals({ proposalId: 'CRASH-BIG', lines: 420 });
    const mid = proposalWithActuals({ proposalId: 'CRASH-MID', lines: 101, legalEntity: 'demf', currency: 'EUR' });
    const small = [1, 3, 7].map((n) => proposalWithActuals({ proposalId: `CRASH-S${n}`, lines: n, legalEntity: 'gbsi', currency: 'GBP' }));
    const all = [big, mid, ...small];
    const names = all.map((p) => ({ legalEntity: p.invoice.legalEntity, proposalId: p.invoice.proposalId }));
    const messages: Message[] = all.flatMap((p) => [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]);
    for (let i = 0; i < messages.length; i += 20) await Promise.all(messages.slice(i, i + 20).map((m) => deliver(rt, m)));
    const bigPk = proposalPartition(big.invoice.legalEntity, big.invoice.proposalId);
    const bigName = { legalEntity: big.invoice.legalEntity, proposalId: big.invoice.proposalId };
    const bigPages = linePageEntities(bigPk, 'any', numberLines(big.actuals as BilledSalesActual[]), CRASH_PAGE_CHARS).length;
    expect(bigPages, 'the big build spans three transactions').toBeGreaterThan(2 * 100 - 2);

    // Phase 1, the first build: the held marker, 210 pages of lines and the header = 3 transactions for the big
    // proposal. Kill before transaction 1 or 2 (0 would write nothing), until a run gets through.
    for (let round = 0; round < 6; round++) {
      const index = random.int(1, 2);
      const killed = await killedImport({
        label: `first build, before transaction #${index} of ${big.invoice.proposalId}`,
        job: importJob({ killAtBatch: { proposalIncludes: bigPk, index } }, bigName),
      });
      await noHalfProposal(names, `after kill in round ${round}`);
      if (!killed) break;
    }
    await settled(messages, 'after the first build');

    // Phase 2, rebuilds: each cycle revises one actual of the big (and sometimes the 101-line) proposal and the
    // header totals with it, so the import parks the new version, writes a whole new build, flips the header
    // and deletes the old build's 210 pages. Each cycle is killed once or twice somewhere in there.
    let current = [...messages];
    const revise = (p: typeof big, cycle: number) => {
      const version = cycle + 1;
      const target = p.actuals[cycle % p.actuals.length]!;
      const revised: Actual = { ...target, version, quantity: '1', price: `${cycle}.25`, amount: `${cycle}.25` };
      const latest = new Map(
        current.filter((m): m is Message & { kind: 'actual' } => m.kind === 'actual').map((m) => [m.body.actualId, m.body]),
      );
      latest.set(revised.actualId, revised);
      const amounts = p.actuals.map((a) => latest.get(a.actualId)!.amount);
      const detail = formatMoney(sumMoney(amounts));
      const header: ConfirmedInvoice = {
        ...p.invoice,
        version,
        detailAmount: detail,
        totalAmount: formatMoney(sumMoney([detail, p.invoice.totalTax])),
      };
      return [actualMessage(revised), headerMessage(header)];
    };
    for (let cycle = 1; kills < minKills; cycle++) {
      expect(cycle, 'enough kill points were reached').toBeLessThan(60);
      const bump = [...revise(big, cycle), ...(cycle % 3 === 0 ? revise(mid, cycle) : [])];
      for (const m of bump) await deliver(rt, m);
      current = [...current, ...bump];
      const candidates: Kill[] = [
        {
          label: `rebuild ${cycle}: before transaction #${cycle % 3} of the big proposal`,
          job: importJob({ killAtBatch: { proposalIncludes: bigPk, index: cycle % 3 } }, bigName),
        },
        ...[random.int(1, bigPages)].map((n) => ({
          label: `rebuild ${cycle}: while deleting the superseded build, before delete #${n}`,
          job: importJob({ killAtRequest: { n, method: 'DELETE', urlIncludes: "RowKey='line|" } }, bigName),
        })),
        ...[random.int(1, 4)].map((n) => ({
          label: `rebuild ${cycle}: right after transaction #${n} was applied, before its answer`,
          job: importJob({ killAtRequest: { n, after: true, method: 'POST', urlIncludes: '$batch' } }, bigName),
        })),
        ...[random.int(1, 40)].map((n) => ({
          label: `rebuild ${cycle}: at storage request #${n}`,
          job: importJob({ killAtRequest: { n, after: random.next() < 0.5 } }, bigName),
        })),
        ...[random.int(20, 600)].map((ms) => ({
          label: `rebuild ${cycle}: ${ms} ms after start`,
          job: importJob({}, bigName),
          afterMs: ms,
        })),
      ];
      for (let round = 0; round < 2; round++) {
        const kill = round === 0 ? candidates[cycle % candidates.length]! : random.pick(candidates);
        const killed = await killedImport(kill);
        await noHalfProposal(names, `after: ${kill.label}`);
        if (!killed) break;
      }
      await settled(current, `after rebuild ${cycle}`, false);
    }
    expect(kills).toBeGreaterThanOrEqual(minKills);
    await settled(current, 'at the end');
    await expectStateListsAgree(rt, 'after the killed imports');
  }, 300_000);

  it('a kill while the superseded build is being deleted leaves nothing behind once the next run is done', async () => {
    const p = proposalWithActuals({ proposalId: 'CRASH-GC', lines: 3 });
    const messages: Message[] = [headerMessage(p.invoice), ...p.actuals.map(actualMessage)];
    for (const m of messages) await deliver(rt, m);
    await cleanImport([{ legalEntity: 'usmf', proposalId: 'CRASH-GC' }]);
    // A new version with the same amount: a new build, the same totals; the old build's row (one page of 3 lines) is to be deleted.
    const revised = actualMessage({ ...p.actuals[1]!, version: 2, documentDate: '2026-11-27' });
    await deliver(rt, revised);
    const killed = await killedImport({
      label: 'pinned: before deleting the first row of the superseded build',
      job: importJob(
        { killAtRequest: { n: 1, method: 'DELETE', urlIncludes: "RowKey='line|" } },
        { legalEntity: 'usmf', proposalId: 'CRASH-GC' },
      ),
    });
    expect(killed).toBe(true);
    await noHalfProposal([{ legalEntity: 'usmf', proposalId: 'CRASH-GC' }], 'after the pinned kill');
    const left = orphanLines(await snapshot(rt)).filter((r) => r.partitionKey === 'usmf|CRASH-GC');
    expect(storedLines(left), 'the kill left the old build behind, for the next run to clean').toBe(3);
    await settled([...messages, revised], 'after the run that follows the pinned kill');
  });
});

/**
 * Issue 10: the delivery of an actual killed between its steps. The register decides before anything is
 * staged, and a move takes the actual off its old proposal before the register names the new one; a kill
 * anywhere in between (at a named step, or at any storage request of the delivery, before or after storage
 * applied it) must never leave the actual a line of two proposals, and the redelivery Service Bus makes
 * after the kill must finish the job.
 */
describe('crash safety: deliveries of a moving actual killed between their steps', () => {
  let rt: Runtime & { env: Record<string, string> };
  const log: string[] = [];
  beforeAll(async () => {
    rt = await isolatedRuntime();
  });
  afterAll(async () => {
    console.log(`crash (deliveries): ${log.length} delivery processes killed\n  ${log.join('\n  ')}`);
    if (rt) await dropTables(rt);
    spareDeliverer?.child.kill('SIGKILL');
  });

  /** Proposals A and B of one line each; X is A's line, imported. */
  async function onA(tag: string, n: number) {
    const a = proposalWithActuals({ proposalId: `${tag}-A`, lines: 1, seed: 3 });
    const x = { ...a.actuals[0]!, actualId: GUID(n, 'c0ffee') };
    const header = (proposalId: string): ConfirmedInvoice => ({ ...a.invoice, proposalId });
    for (const m of [headerMessage(header(`${tag}-A`)), headerMessage(header(`${tag}-B`)), actualMessage(x)]) await deliver(rt, m);
    await importFromStaging(rt, quiet);
    expect((await readProposal(rt, 'usmf', `${tag}-A`))!.lines).toHaveLength(1);
    return { x, moved: actualMessage({ ...x, version: 2, proposalId: `${tag}-B` }) };
  }

  async function linesOnBoth(tag: string) {
    const [a, b] = await Promise.all([readProposal(rt, 'usmf', `${tag}-A`), readProposal(rt, 'usmf', `${tag}-B`)]);
    return { a: a!.lines.length, b: b!.lines.length };
  }

  /** Kills the delivery of `m`, then checks, imports, checks, redelivers (as Service Bus does), imports and checks the end. */
  let spareDeliverer: WorkerRun | undefined;

  async function killedDelivery(tag: string, m: Message, job: Omit<Extract<WorkerJob, { cmd: 'deliver' }>, 'cmd' | 'file'>, label: string) {
    // The job goes with `go`, after start-up: the storage requests of the worker's own start are not counted.
    // The next worker starts while this one runs, so process start-up is not paid in sequence.
    const worker = spareDeliverer ?? startWorker(undefined, rt.env);
    spareDeliverer = startWorker(undefined, rt.env);
    await worker.ready;
    worker.go({ cmd: 'deliver', file: messageFile([m]), ...job });
    const end = await worker.done;
    if (end.signal === 'SIGKILL') log.push(`killed: ${label}`);
    else expect(end.code, `${label}: ${end.error ?? end.stderr}`).toBe(0);
    const afterKill = await linesOnBoth(tag);
    expect(afterKill.a + afterKill.b, `${label}: right after the kill`).toBeLessThanOrEqual(1);
    await importFromStaging(rt, quiet);
    const afterImport = await linesOnBoth(tag);
    expect(afterImport.a + afterImport.b, `${label}: after an import between the kill and the redelivery`).toBeLessThanOrEqual(1);
    await deliverUntilCompleted(rt, m);
    await importFromStaging(rt, quiet);
    expect(await linesOnBoth(tag), `${label}: after the redelivery`).toEqual({ a: 0, b: 1 });
    return end.signal === 'SIGKILL';
  }

  it('a move killed at each of its steps is a line of one proposal at every point, and of the new one after the redelivery', async () => {
    const steps: DeliveryStep[] = ['decided', 'takenDown', 'registered'];
    for (const [i, step] of steps.entries()) {
      const tag = `CM-${step}`;
      const { moved } = await onA(tag, 10 + i);
      expect(await killedDelivery(tag, moved, { killAtStep: step }, `move, at step "${step}"`), step).toBe(true);
    }
    await expectStateListsAgree(rt, 'after the moves killed at each step');
  }, 120_000);

  it('a move killed at every storage request of its delivery, before or after storage applied it, ends the same', async () => {
    let killed = 0;
    for (let n = 1; n <= 10; n++) {
      for (const after of [false, true]) {
        const tag = `CR-${n}${after ? 'a' : 'b'}`;
        const { moved } = await onA(tag, 100 + 2 * n + (after ? 1 : 0));
        if (
          await killedDelivery(
            tag,
            moved,
            { killAtRequest: { n, after } },
            `move, at storage request #${n}${after ? ', after it was applied' : ''}`,
          )
        )
          killed++;
      }
    }
    // A move makes 10 storage requests (register create: 409, register read, old proposal query, the actual's line
    // read, the state index's AwaitingLines entry, take down, the LinesCreated entry removed, departure row, register
    // replace, staged row): every one of them is a kill point, twice.
    expect(killed).toBe(20);
    await expectStateListsAgree(rt, 'after the killed moves');
  }, 240_000);

  it('with the import fast path, a move killed at any storage request of its delivery or of the imports it asks for ends the same', async () => {
    // The 7 requests of the move, then the import requests for the new proposal and the old one, delivered
    // in the same process: a kill in there leaves a delivery completed, its fast-path import half done.
    let killed = 0;
    for (const [n, after] of [
      [8, false],
      [11, true],
      [14, false],
    ] as const) {
      const tag = `CF-${n}`;
      const { moved } = await onA(tag, 200 + n);
      const label = `move with the fast path, at storage request #${n}${after ? ', after it was applied' : ''}`;
      if (await killedDelivery(tag, moved, { killAtRequest: { n, after }, fastPath: true }, label)) killed++;
    }
    expect(killed, 'the kill points past the move itself fell inside its fast-path imports').toBe(3);
  }, 240_000);
});
