/**
 * Issue 4, part 4: storage faults, injected into the real SDK pipeline of the
 * table clients (test/support/faults.ts). A transient fault is either retried
 * by the SDK (policy below the retry policy) or thrown out of the pipeline step
 * (above it), never quarantined and never half-applied; Service Bus redelivers
 * the message (here: the step is called again until it completes) and the next
 * timer run repeats a failed import. Once the faults stop, the state is the
 * fault-free state, row for row.
 *
 * FAULT_SEED=<seed> replays the fault sequence of a run.
 */
import { expectStateListsAgree } from '../support/stateIndex';
import { inParallel } from '../../shared/pipeline/inParallel';
import { chunk } from '../../shared/storage/batches';
import { afterAll, describe, expect, it } from 'vitest';
import type { Actual } from '../../shared/contracts/actual';
import { importFromStaging } from '../../shared/pipeline/importFromStaging';
import { readProposal } from '../../shared/pipeline/readModels';
import type { Runtime, RuntimeOptions } from '../../shared/runtime';
import { ImportRequestQueue } from '../support/importRequests';
import { proposalWithActuals } from '../support/builders';
import { faultInjector, type FaultKind } from '../support/faults';
import { seededRandom } from '../../scripts/seededRandom';
import {
  actualMessage,
  canonicalOrder,
  deliver,
  deliverBatchUntilCompleted,
  deliverUntilCompleted,
  dropTables,
  headerMessage,
  importUntilCompleted,
  isolatedEnvironment,
  isolatedRuntime,
  orphanLines,
  quiet,
  snapshot,
  violations,
  type Message,
} from '../support/reliability';

const SEED = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Short SDK retry delays, so a test with thousands of faults stays fast. */
const retryOptions = { maxRetries: 3, retryDelayInMs: 2, maxRetryDelayInMs: 10 };

/** A runtime whose storage fails as told: `sdk` faults below the SDK's retry policy, `thrown` faults above it. */
async function faultyRuntime(random: () => number, kinds: { sdk: FaultKind[]; thrown: FaultKind[] }, options: RuntimeOptions = {}) {
  const env = isolatedEnvironment();
  const common = { random, connectionString: env.AzureWebJobsStorage! };
  const sdk = faultInjector({ name: 'faultsRetriedBySdk', rate: 0, kinds: kinds.sdk, surface: 'response', ...common });
  const thrown = faultInjector({ name: 'faultsThrownToStep', rate: 0, kinds: kinds.thrown, surface: 'throw', ...common });
  const rt = await isolatedRuntime(
    {
      ...options,
      storage: {
        retryOptions,
        additionalPolicies: [
          { policy: thrown.policy, position: 'perCall' },
          { policy: sdk.policy, position: 'perRetry' },
        ],
      },
    },
    env,
  );
  return { rt, sdk, thrown };
}

/** 1,000 actuals: 950 billed sales actuals on 15 proposals of 1 to 250 lines, 50 of other types. */
function thousandActuals(): Message[] {
  const messages = batchOf([250, 150, 101, 100, 99, 80, 60, 40, 30, 20, 10, 5, 3, 1, 1], 50);
  expect(messages.filter((m) => m.kind === 'actual')).toHaveLength(1000);
  return messages;
}

function batchOf(sizes: readonly number[], otherCount: number): Message[] {
  const proposals = sizes.map((lines, i) =>
    proposalWithActuals({
      proposalId: `F-${i}-${lines}`,
      lines,
      legalEntity: ['usmf', 'demf', 'gbsi'][i % 3]!,
      currency: ['USD', 'EUR', 'GBP'][i % 3]!,
      tax: i % 2 ? '1.50' : '0.00',
    }),
  );
  const others: Actual[] = Array.from({ length: otherCount }, (_, k) => ({
    ...proposals[0]!.actuals[0]!,
    actualId: `F-other-${k}`,
    transactionType: (['Cost', 'UnbilledSales', 'ProjectContract', 'ResourcingUnitCost', 'InterOrganizationalSales'] as const)[k % 5]!,
    amount: `${k}.10`,
  }));
  const revised = proposals.slice(0, 4).map((p) => headerMessage({ ...p.invoice, version: 2, description: 'revised' }));
  const messages = [
    ...proposals.flatMap((p) => [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]),
    ...others.map(actualMessage),
    ...revised,
  ];
  return messages;
}

describe('storage faults injected into the SDK pipeline', () => {
  const random = seededRandom(SEED);
  const runtimes: Runtime[] = [];
  afterAll(async () => {
    console.log(`faults: seed ${SEED} (FAULT_SEED=${SEED} replays it)`);
    await Promise.all(runtimes.map(dropTables));
  });

  it('a fault the SDK retries is invisible to the pipeline step', async () => {
    const { rt, sdk } = await faultyRuntime(random, { sdk: ['503', '500', 'timeout', 'lostAck', 'lost500'], thrown: [] });
    runtimes.push(rt);
    // Fail the first attempt of every request: each one needs the SDK's retry.
    const first = new WeakSet<object>();
    const base = sdk.options.random;
    sdk.options.rate = 1;
    sdk.options.random = () => 0;
    const policy = sdk.policy.sendRequest.bind(sdk.policy);
    sdk.policy.sendRequest = (request, next) => {
      if (first.has(request)) return next(request);
      first.add(request);
      return policy(request, next);
    };
    const p = proposalWithActuals({ proposalId: 'SDK-RETRY', lines: 3 });
    // A lost answer to a create that was applied makes the step see its own write: 'duplicate' is the right outcome then.
    for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)])
      expect(['applied', 'duplicate']).toContain((await deliver(rt, m)).kind);
    await importFromStaging(rt, quiet);
    sdk.options.random = base;
    sdk.options.rate = 0;
    expect(Object.values(sdk.counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
    expect(await readProposal(rt, 'usmf', 'SDK-RETRY')).toMatchObject({ status: 'LinesCreated', lines: expect.any(Array) });
    expect((await readProposal(rt, 'usmf', 'SDK-RETRY'))!.lines).toHaveLength(3);
    expect(await rt.quarantine.list()).toEqual([]);
  });

  it('a fault that reaches the step is thrown (so Service Bus redelivers), never quarantined, and a redelivery completes it', async () => {
    const { rt, thrown } = await faultyRuntime(random, { sdk: [], thrown: ['503'] });
    runtimes.push(rt);
    const p = proposalWithActuals({ proposalId: 'THROWN', lines: 1 });
    thrown.options.rate = 1;
    const error = await deliver(rt, headerMessage(p.invoice)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'the delivery failed with the storage error').toMatchObject({ statusCode: 503 });
    await expect(importFromStaging(rt, quiet)).rejects.toThrow();
    thrown.options.rate = 0;
    expect(await rt.quarantine.list(), 'a transient failure is not a bad message').toEqual([]);
    const redelivered = await deliverUntilCompleted(rt, headerMessage(p.invoice));
    expect(redelivered.outcome.kind).toBe('applied');
    await deliverUntilCompleted(rt, actualMessage(p.actuals[0]!));
    await importFromStaging(rt, quiet);
    expect((await readProposal(rt, 'usmf', 'THROWN'))!.status).toBe('LinesCreated');
  });

  it('ETag races before conditional header writes are re-read and retried within the same run, and the result is the same', async () => {
    const { rt, sdk } = await faultyRuntime(random, { sdk: ['race'], thrown: [] });
    runtimes.push(rt);
    const p = proposalWithActuals({ proposalId: 'RACE', lines: 120 });
    const messages = [
      headerMessage(p.invoice),
      ...p.actuals.map(actualMessage),
      headerMessage({ ...p.invoice, version: 2, description: 'v2' }),
    ];
    // Every other conditional header write meets a competing write first (deterministically).
    let flip = false;
    sdk.options.random = () => {
      flip = !flip;
      return flip ? 0 : 0.99;
    };
    sdk.options.raceRate = 0.5;
    for (const m of messages) await deliverUntilCompleted(rt, m);
    const { runs } = await importUntilCompleted(rt);
    sdk.options.raceRate = 0;
    expect(sdk.counts.race, 'competing writes were made').toBeGreaterThanOrEqual(2);
    expect(runs, 'the import retried inside one run').toBe(1);
    expect(await violations(rt, messages)).toEqual([]);
  });

  /**
   * Delivers `messages` shuffled under faults, with scheduled imports running (and failing) meanwhile and, on
   * the fast path, the import requests delivered every 50 ms (a failed one is redelivered), then compares
   * with the fault-free run.
   */
  async function convergesUnderFaults(messages: readonly Message[], fastPath: boolean, batched = false) {
    const reference = await isolatedRuntime();
    runtimes.push(reference);
    const requests = new ImportRequestQueue({ eager: false });
    const { rt, sdk, thrown } = await faultyRuntime(
      random,
      {
        sdk: ['503', '500', 'timeout', 'lostAck', 'lost500', 'race'],
        thrown: ['503', '500', 'timeout', 'lostAck', 'lost500', 'race'],
      },
      fastPath ? { importRequests: requests } : {},
    );
    runtimes.push(rt);

    // Fault-free: each message once, canonical order, one import.
    await inParallel(canonicalOrder(messages), 16, (m) => deliver(reference, m));
    await importFromStaging(reference, quiet);

    // 10% of requests fail: 7% below the SDK's retry policy, 3% thrown to the step. Messages arrive shuffled;
    // a delivery that throws is redelivered; imports run (and fail, and run again) while deliveries go on.
    const shuffled = [...messages].sort(() => random() - 0.5);
    sdk.options.rate = 0.07;
    thrown.options.rate = 0.03;
    sdk.options.raceRate = 0.2; // and one in five conditional header/register writes meets a competing write
    let redeliveries = 0;
    let failedImports = 0;
    let delivering = true;
    const importing = (async () => {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 300));
        await importFromStaging(rt, quiet).catch(() => failedImports++);
      }
    })();
    const fastImports = (async () => {
      while (fastPath && (delivering || requests.waiting)) {
        await new Promise((r) => setTimeout(r, 50));
        await requests.deliverAll(rt, quiet);
      }
    })();
    // Batched: the actuals go to syncActuals ten to an invocation (a throw redelivers all ten), headers one each.
    const units: Message[][] = batched
      ? [
          ...shuffled.filter((m) => m.kind === 'header').map((m) => [m]),
          ...chunk(
            shuffled.filter((m) => m.kind === 'actual'),
            10,
          ),
        ]
      : shuffled.map((m) => [m]);
    await inParallel(units, batched ? 4 : 16, async (unit) => {
      const { deliveries } = unit.length > 1 ? await deliverBatchUntilCompleted(rt, unit) : await deliverUntilCompleted(rt, unit[0]!);
      redeliveries += deliveries - 1;
    });
    delivering = false;
    await Promise.all([importing, fastImports]);
    const { runs } = await importUntilCompleted(rt);
    failedImports += runs - 1;
    const injected = { sdk: { ...sdk.counts }, thrown: { ...thrown.counts }, requests: sdk.requests };
    sdk.options.rate = 0;
    sdk.options.raceRate = 0;
    thrown.options.rate = 0;
    await importFromStaging(rt, quiet); // faults stopped: one more run finds nothing left

    const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    console.log(
      `faults${fastPath ? ' (import fast path on)' : ''}: ${injected.requests} storage requests, ${total(injected.sdk)} faults retried by the SDK ${JSON.stringify(injected.sdk)}, ` +
        `${total(injected.thrown)} thrown to the steps ${JSON.stringify(injected.thrown)}; ${redeliveries} redeliveries, ${failedImports} failed import runs` +
        (fastPath ? `; import requests ${JSON.stringify(requests.stats)}` : ''),
    );
    expect(total(injected.sdk) + total(injected.thrown)).toBeGreaterThan(injected.requests * 0.05);
    expect(injected.sdk.race + injected.thrown.race, 'ETag races were injected').toBeGreaterThan(0);
    expect(redeliveries, 'some faults reached the steps and were redelivered').toBeGreaterThan(0);
    if (fastPath) expect(requests.stats.outcomes.applied, 'the fast path imported proposals under faults').toBeGreaterThan(0);

    const [want, got] = await Promise.all([snapshot(reference), snapshot(rt)]);
    expect(got.staging).toEqual([]);
    expect(got.quarantine, 'no transient fault was mistaken for a bad message').toEqual([]);
    expect(orphanLines(got)).toEqual([]);
    expect(got.proposals.length).toBe(want.proposals.length);
    expect(got.proposals, 'proposals: every header, parked actual and line row equals the fault-free run').toEqual(want.proposals);
    expect(got.actuals, 'the actual register equals the fault-free run').toEqual(want.actuals);
    expect(got.outbox).toEqual(want.outbox);
    expect(await violations(rt, messages)).toEqual([]);
    expect(await expectStateListsAgree(rt, 'under faults')).toBe(await expectStateListsAgree(reference, 'fault-free'));
  }

  it('under 10% injected storage faults a 1,000-actual batch converges to exactly the fault-free state', async () => {
    await convergesUnderFaults(thousandActuals(), false);
  }, 180_000);

  it('with the import fast path on and the actuals delivered ten to an invocation, a 300-actual batch under the same faults converges to the same fault-free state', async () => {
    await convergesUnderFaults(batchOf([120, 101, 40, 10, 5, 3, 1], 20), true, true);
  }, 180_000);
});
