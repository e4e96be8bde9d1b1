/**
 * syncActuals takes its messages in batches (cardinality 'many'): each delivery is registered on its own,
 * then what the batch accepted is staged together, the actuals of one proposal in shared bundle rows
 * (docs/storage.md#staging-together). These are the cases where a batch is not simply "ten new actuals":
 * a failure inside it, its redelivery, overlap with rows staged one by one, mixed proposals and refusals,
 * and a bundle too large for one row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import { readProposal } from '../shared/pipeline/readModels';
import type { Runtime } from '../shared/runtime';
import { proposalPartition } from '../shared/storage/keys';
import { shardOf } from '../shared/storage/staging';
import { proposalWithActuals } from './support/builders';
import {
  actualMessage,
  deliver,
  deliverBatch,
  dropTables,
  headerMessage,
  isolatedRuntime,
  quiet,
  tableRows,
  violations,
  type Message,
} from './support/reliability';

let rt: Runtime;
beforeAll(async () => {
  rt = await isolatedRuntime();
});
afterAll(async () => {
  if (rt) await dropTables(rt);
});

const stagedOf = async (proposalId: string) =>
  (await tableRows(rt, 'staging')).filter((r) => String(r.rowKey).startsWith(`${proposalPartition('usmf', proposalId)}|`));

async function expectLines(proposalId: string, count: number, messages: readonly Message[]) {
  const view = await readProposal(rt, 'usmf', proposalId);
  expect(view?.status, view?.reason ?? '').toBe('LinesCreated');
  expect(view?.lines.map((l) => l.actualId).sort()).toHaveLength(count);
  expect(new Set(view?.lines.map((l) => l.actualId)).size, 'each actual on one line').toBe(count);
  expect(await stagedOf(proposalId), 'nothing left staged').toEqual([]);
  expect(await violations(rt, messages)).toEqual([]);
}

describe('staging together: a batch of actuals (Azurite)', () => {
  it('stages the actuals of one proposal in one bundle row, which the import turns into every line', async () => {
    const p = proposalWithActuals({ proposalId: 'TOG-1', lines: 10 });
    await deliver(rt, headerMessage(p.invoice));
    const outcomes = await deliverBatch(
      rt,
      p.actuals.map((a) => ({ message: actualMessage(a) })),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(Array(10).fill('applied'));
    const staged = await stagedOf('TOG-1');
    expect(staged.map((r) => String(r.rowKey).split('|')[2])).toEqual(['b', 'h']); // one bundle, the header's flag
    expect(JSON.parse(String(staged[0]!.bundle))).toHaveLength(10);
    await importFromStaging(rt, quiet);
    await expectLines('TOG-1', 10, [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]);
  });

  it('one delivery failing inside a batch lets the others stage, and the redelivered batch completes with each line once', async () => {
    const p = proposalWithActuals({ proposalId: 'TOG-2', lines: 6 });
    await deliver(rt, headerMessage(p.invoice));
    let registered = 0;
    const failing = deliverBatch(
      rt,
      p.actuals.map((a) => ({ message: actualMessage(a) })),
      // The sixth registration dies after its register write (a transient failure, as a storage timeout would be).
      { onStep: (step) => void (step === 'registered' && ++registered === 6 && fail()) },
    );
    await expect(failing).rejects.toThrow('storage timed out');
    const [firstTry] = await stagedOf('TOG-2');
    expect(JSON.parse(String(firstTry!.bundle)), 'the five others were staged before the batch failed').toHaveLength(5);

    // Service Bus redelivers the whole batch: five duplicates, and the sixth found registered (a duplicate) and staged now.
    const again = await deliverBatch(
      rt,
      p.actuals.map((a) => ({ message: actualMessage(a) })),
    );
    expect(again.map((o) => o.kind)).toEqual(Array(6).fill('duplicate'));
    await importFromStaging(rt, quiet);
    await expectLines('TOG-2', 6, [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]);
  });

  it('a batch redelivered after it was staged creates nothing twice (the transaction that finds its rows falls back to one by one)', async () => {
    const p = proposalWithActuals({ proposalId: 'TOG-3', lines: 4 });
    const other = proposalWithActuals({ proposalId: 'TOG-3B', lines: 1 });
    await deliver(rt, headerMessage(p.invoice));
    await deliver(rt, headerMessage(other.invoice));
    // Two actuals first arrive apart (rows of their own), then everything together, then the same batch again.
    for (const a of p.actuals.slice(0, 2)) await deliver(rt, actualMessage(a));
    const batch = [...p.actuals, ...other.actuals].map((a) => ({ message: actualMessage(a) }));
    expect((await deliverBatch(rt, batch)).map((o) => o.kind)).toEqual(['duplicate', 'duplicate', 'applied', 'applied', 'applied']);
    const staged = await stagedOf('TOG-3');
    expect(await deliverBatch(rt, batch)).toHaveLength(5);
    expect(await stagedOf('TOG-3'), 'the same rows, none twice').toEqual(staged);
    await importFromStaging(rt, quiet);
    const messages = [p.invoice, other.invoice].map(headerMessage).concat([...p.actuals, ...other.actuals].map(actualMessage));
    await expectLines('TOG-3', 4, messages);
    await expectLines('TOG-3B', 1, messages);
  });

  it('answers each message of a mixed batch on its own, in order: invalid, refused content, not billed, two proposals in their shards', async () => {
    const p = proposalWithActuals({ proposalId: 'TOG-4', lines: 2 });
    const q = proposalWithActuals({ proposalId: 'TOG-4Q', lines: 1 });
    await deliver(rt, actualMessage(p.actuals[0]!)); // accepted earlier: the batch brings the same version with other content
    const changed = { ...p.actuals[0]!, amount: '1.00' };
    const cost = {
      ...q.actuals[0]!,
      actualId: 'TOG-4-cost',
      transactionType: 'Cost' as const,
      proposalId: undefined,
      invoiceId: undefined,
    };
    const outcomes = await deliverBatch(rt, [
      { message: actualMessage({ ...p.actuals[1]!, currency: 'usd' }) },
      { message: actualMessage(changed) },
      { message: actualMessage(cost) },
      { message: actualMessage(p.actuals[1]!) },
      { message: actualMessage(q.actuals[0]!) },
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['quarantined', 'quarantined', 'applied', 'applied', 'applied']);
    expect(outcomes[0]!.detail).toMatch(/^currency:/);
    expect(outcomes[1]!.detail).toContain('different content');
    const shards = (await tableRows(rt, 'staging'))
      .filter((r) => /TOG-4/.test(String(r.rowKey)))
      .map((r) => [String(r.rowKey).split('|')[1], r.partitionKey]);
    expect(shards).toEqual(
      expect.arrayContaining([
        ['TOG-4', shardOf(proposalPartition('usmf', 'TOG-4'))],
        ['TOG-4Q', shardOf(proposalPartition('usmf', 'TOG-4Q'))],
      ]),
    );
  });

  it('a batch of 300 actuals of one proposal goes into bundles of at most 30,000 characters, and the import makes 300 lines', async () => {
    const p = proposalWithActuals({ proposalId: 'TOG-5', lines: 300 });
    await deliver(rt, headerMessage(p.invoice));
    for (let i = 0; i < 300; i += 100)
      await deliverBatch(
        rt,
        p.actuals.slice(i, i + 100).map((a) => ({ message: actualMessage(a) })),
      );
    const bundles = (await stagedOf('TOG-5')).filter((r) => r.bundle);
    expect(bundles.length).toBeGreaterThan(3);
    for (const b of bundles) expect(String(b.bundle).length).toBeLessThanOrEqual(30_000);
    expect(bundles.reduce((n, b) => n + (JSON.parse(String(b.bundle)) as unknown[]).length, 0)).toBe(300);
    await importFromStaging(rt, quiet);
    await expectLines('TOG-5', 300, [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]);
  });
});

function fail(): never {
  throw Object.assign(new Error('storage timed out'), { code: 'ETIMEDOUT' });
}

describe('reading the pending work: one query over the shards (Azurite)', () => {
  it('yields every proposal once, with all of its rows, in pages that end inside a proposal and across shards', async () => {
    const own = await isolatedRuntime();
    try {
      const invoices = Array.from({ length: 12 }, (_, i) => proposalWithActuals({ proposalId: `PAGE-${i}`, lines: 1 + (i % 4) }));
      for (const p of invoices) for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]) await deliver(own, m);
      const shards = new Set(invoices.map((p) => shardOf(proposalPartition('usmf', p.invoice.proposalId))));
      expect(shards.size, 'the proposals sit in several shards').toBeGreaterThan(3);

      const seen: { proposal: string; rows: number }[] = [];
      for await (const g of own.staging.groups(3)) seen.push({ proposal: g.proposal, rows: g.rows.length });
      // Each proposal's header flag and one staged row per actual (delivered one at a time), in one group.
      expect(seen.sort((a, b) => a.proposal.localeCompare(b.proposal))).toEqual(
        invoices
          .map((p) => ({ proposal: proposalPartition('usmf', p.invoice.proposalId), rows: 1 + p.actuals.length }))
          .sort((a, b) => a.proposal.localeCompare(b.proposal)),
      );
    } finally {
      await dropTables(own);
    }
  });
});
