/**
 * What one 10-line invoice costs in Table Storage over its whole life, counted
 * exactly by a pipeline policy in the product's storage clients: the header
 * sync, the 10 actual syncs, the import, the posting callback, the outbox sweep
 * after it and, a week later, the purge of its webhook-id record. Entity
 * operations are what Azure throttles (docs/capacity.md); counts, not timings,
 * so they cannot regress unseen.
 */
import { odata } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestCounter } from '../bench/support';
import type { OutboundMessage } from '../shared/messaging/accountingUpdates';
import { recordPostingCallback } from '../shared/http/postingCallback';
import { dispatchAccountingUpdates } from '../shared/pipeline/dispatchAccountingUpdates';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import type { Runtime } from '../shared/runtime';
import type { Actual } from '../shared/contracts/actual';
import { readProposal } from '../shared/pipeline/readModels';
import { proposalPartition } from '../shared/storage/keys';
import { RECEIPT_DAYS_KEPT } from '../shared/storage/webhookReceipts';
import { httpRequest, proposalWithActuals, serviceBusContext } from './support/builders';
import { postingFor, signedHeaders } from './support/posting';
import { actualMessage, deliver, deliverBatch, dropTables, headerMessage, isolatedRuntime, quiet } from './support/reliability';
import { TEST_WEBHOOK_SECRET } from './support/runtime';

/** One step's cost: entity operations, requests for this invoice, and the empty scans every timer run makes whatever is pending. */
interface Cost {
  entityOperations: number;
  requests: number;
  emptyScans: number;
}

describe('storage operations of one 10-line invoice, sync to purge (counted by a pipeline policy; Service Bus sender stood in by memory)', () => {
  const counter = new RequestCounter();
  const sent: OutboundMessage[] = [];
  let rt: Runtime;
  beforeAll(async () => {
    // Service Bus is not Table Storage: its stand-in keeps what was sent in memory, uncounted.
    const sender = { send: async (messages: readonly OutboundMessage[]) => void sent.push(...messages) };
    rt = await isolatedRuntime({ storage: { additionalPolicies: [{ policy: counter.policy(), position: 'perCall' }] }, sender });
  });
  afterAll(async () => {
    if (rt) await dropTables(rt);
  });

  async function costOf(step: () => Promise<unknown>): Promise<Cost> {
    counter.reset();
    await step();
    return { entityOperations: counter.entityOperations, requests: counter.total - counter.emptyQueries, emptyScans: counter.emptyQueries };
  }

  /** One invoice's whole life, step by step: header sync, actual syncs (as `syncActuals` delivers them), import, posting, sweep, purge. */
  async function lifeOf(proposalId: string, syncActuals: (actuals: readonly Actual[]) => Promise<unknown>) {
    const p = proposalWithActuals({ proposalId, lines: 10 });
    const headerSync = await costOf(() => deliver(rt, headerMessage(p.invoice)));
    const actualSyncs = await costOf(() => syncActuals(p.actuals));
    const imported = await costOf(() => importFromStaging(rt, quiet));
    const body = JSON.stringify(postingFor(p.actuals));
    const posting = await costOf(async () => {
      const answer = await recordPostingCallback(
        httpRequest({ method: 'POST', url: 'http://x', params: { legalEntity: 'usmf', proposalId }, body, headers: signedHeaders(body) }),
        serviceBusContext(),
        { secrets: [TEST_WEBHOOK_SECRET], runtime: async () => rt },
      );
      expect(answer.status).toBe(200);
    });
    const sweep = await costOf(() => dispatchAccountingUpdates(rt, quiet));
    const purge = await costOf(() => rt.webhookReceipts.purgeExpired(new Date(Date.now() + (RECEIPT_DAYS_KEPT + 1) * 86_400_000)));
    expect(sent.filter((m) => m.body.proposalId === proposalId)).toHaveLength(10);
    const view = await readProposal(rt, 'usmf', proposalId);
    expect([view?.status, view?.lines.length]).toEqual(['Posted', 10]);
    const steps = { headerSync, actualSyncs, imported, posting, sweep, purge };
    const total = Object.values(steps).reduce((t, c) => ({
      entityOperations: t.entityOperations + c.entityOperations,
      requests: t.requests + c.requests,
      emptyScans: t.emptyScans + c.emptyScans,
    }));
    return { ...steps, total };
  }

  it('actuals arriving together (one syncActuals invocation, as the trigger hands them over): 34 entity operations in 29 requests', async () => {
    const life = await lifeOf('TOGETHER-10', async (actuals) => {
      const outcomes = await deliverBatch(
        rt,
        actuals.map((a) => ({ message: actualMessage(a) })),
      );
      expect(outcomes.map((o) => o.kind)).toEqual(actuals.map(() => 'applied'));
    });
    // the state index's AwaitingLines entry, header insert, staging flag insert
    expect(life.headerSync).toEqual({ entityOperations: 3, requests: 3, emptyScans: 0 });
    // 10 register inserts, one at a time (one partition each); one bundle row carrying the 10 staged actuals
    expect(life.actualSyncs).toEqual({ entityOperations: 11, requests: 11, emptyScans: 0 });
    // the staging read (one query over the shards: flag + bundle), the LinesCreated entry, one transaction (held marker, one
    // page of the 10 lines carrying the actuals, header), the AwaitingLines entry removed, the flag and the bundle deleted
    // in one transaction
    expect(life.imported).toEqual({ entityOperations: 2 + 1 + 3 + 1 + 2, requests: 5, emptyScans: 0 });
    // receipt claim, the header (its digest of the lines' actual ids vouches for them), outbox entry, the Posted entry,
    // one transaction (one page of the 10 posted rows, header), the LinesCreated entry removed, outbox entry removed, receipt answer
    expect(life.posting).toEqual({ entityOperations: 9, requests: 8, emptyScans: 0 });
    // the outbox read (one query over its shards) and yesterday's receipts, both empty
    expect(life.sweep).toEqual({ entityOperations: 0, requests: 0, emptyScans: 2 });
    // that day's receipts read, and this callback's deleted
    expect(life.purge).toEqual({ entityOperations: 2, requests: 2, emptyScans: 0 });
    // For an invoice alone: 4 of the 29 requests (the import's shard read and staged-row delete, the purge's read and
    // delete) are shared by every invoice of a run or a day; bench row 7h shows them shared.
    expect(life.total).toEqual({ entityOperations: 34, requests: 29, emptyScans: 2 });
    expect(life.total.entityOperations).toBeLessThanOrEqual(90);
  });

  it('actuals arriving apart (an invocation each): 61 entity operations in 38 requests', async () => {
    const life = await lifeOf('APART-10', async (actuals) => {
      for (const a of actuals) await deliver(rt, actualMessage(a));
    });
    expect(life.headerSync).toEqual({ entityOperations: 3, requests: 3, emptyScans: 0 });
    // per actual: register insert, staged row insert
    expect(life.actualSyncs).toEqual({ entityOperations: 20, requests: 20, emptyScans: 0 });
    // the staging read (11 staged rows), the LinesCreated entry, one transaction (held marker, one page of the 10 lines
    // carrying the actuals, header), the AwaitingLines entry removed, 11 staged rows deleted in one transaction:
    // 2.7 entity operations per actual (bench row 7f)
    expect(life.imported).toEqual({ entityOperations: 11 + 1 + 3 + 1 + 11, requests: 5, emptyScans: 0 });
    expect(life.posting).toEqual({ entityOperations: 9, requests: 8, emptyScans: 0 });
    expect(life.total).toEqual({ entityOperations: 61, requests: 38, emptyScans: 2 });
    expect(life.total.entityOperations).toBeLessThanOrEqual(90);
  });

  it('an invoice imported in two runs ends with the same rows as one imported at once, and costs the second run only what it reads and writes', async () => {
    // Row keys with the proposal's id and its build's hash taken out, so two proposals' partitions compare.
    const rowsOf = async (proposalId: string) => {
      const keys: string[] = [];
      const filter = odata`PartitionKey eq ${proposalPartition('usmf', proposalId)}`;
      for await (const e of rt.tables.proposals.listEntities({ queryOptions: { filter, select: ['RowKey'] } }))
        keys.push(
          String(e.rowKey)
            .split(proposalId)
            .join('P')
            .replace(/^line\|[0-9a-f]+\|/, 'line|B|'),
        );
      return keys.sort();
    };
    const whole = proposalWithActuals({ proposalId: 'WHOLE-10', lines: 10 });
    const split = proposalWithActuals({ proposalId: 'SPLIT-10', lines: 10 });
    for (const m of [headerMessage(whole.invoice), ...whole.actuals.map(actualMessage)]) await deliver(rt, m);
    for (const m of [headerMessage(split.invoice), ...split.actuals.slice(0, 5).map(actualMessage)]) await deliver(rt, m);
    await importFromStaging(rt, quiet); // WHOLE-10 gets its lines; SPLIT-10 parks 5 actuals, "5 of 10"
    for (const a of split.actuals.slice(5)) await deliver(rt, actualMessage(a));
    const second = await costOf(() => importFromStaging(rt, quiet));
    // the staging read (5 staged rows); no flag, so the partition read at once (header, held marker, 5 parked rows); one
    // transaction (one page of the 10 lines, header); the 5 parked rows the lines now carry, deleted one by one with their
    // ETags; the 5 staged rows deleted in one transaction
    // (and the state index: the LinesCreated entry before the commit, the AwaitingLines entry removed after)
    expect(second).toEqual({ entityOperations: 5 + 7 + 1 + 2 + 1 + 5 + 5, requests: 1 + 1 + 1 + 1 + 1 + 5 + 1, emptyScans: 0 });
    const splitRows = await rowsOf('SPLIT-10');
    expect(splitRows).toEqual(await rowsOf('WHOLE-10'));
    expect(splitRows.filter((k) => k.startsWith('actual|'))).toEqual([]);
  });
});
