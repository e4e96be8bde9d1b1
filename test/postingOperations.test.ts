/**
 * What a posting costs in Table Storage, counted exactly (entity operations are
 * what Azure bills and throttles; docs/capacity.md): a 10-line posting callback
 * and the outbox sweep after it. Counts, not timings, so they cannot regress
 * unseen.
 */
import { odata } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestCounter } from '../bench/support';
import { readSettings } from '../shared/config';
import type { OutboundMessage } from '../shared/messaging/accountingUpdates';
import { recordPostingCallback } from '../shared/http/postingCallback';
import { dispatchAccountingUpdates } from '../shared/pipeline/dispatchAccountingUpdates';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import { createRuntime, type Runtime } from '../shared/runtime';
import { proposalPartition } from '../shared/storage/keys';
import { httpRequest, proposalWithActuals, serviceBusContext } from './support/builders';
import { postingFor, signedHeaders } from './support/posting';
import { actualMessage, deliver, dropTables, headerMessage, quiet } from './support/reliability';
import { TEST_WEBHOOK_SECRET, testEnvironment } from './support/runtime';

describe('storage operations of a posting (counted by a pipeline policy in the product storage clients; Service Bus sender stood in by memory)', () => {
  const counter = new RequestCounter();
  const sent: OutboundMessage[] = [];
  let rt: Runtime;
  beforeAll(async () => {
    // Service Bus is not Table Storage: its stand-in here keeps what was sent in memory, uncounted.
    const sender = { send: async (messages: readonly OutboundMessage[]) => void sent.push(...messages) };
    rt = await createRuntime(readSettings(testEnvironment()), {
      storage: { additionalPolicies: [{ policy: counter.policy(), position: 'perCall' }] },
      sender,
    });
  });
  afterAll(async () => {
    if (rt) await dropTables(rt);
  });

  async function post(proposalId: string, lines: number) {
    const p = proposalWithActuals({ proposalId, lines });
    for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]) await deliver(rt, m);
    await importFromStaging(rt, quiet);
    const body = JSON.stringify(postingFor(p.actuals));
    counter.reset();
    const answer = await recordPostingCallback(
      httpRequest({ method: 'POST', url: 'http://x', params: { legalEntity: 'usmf', proposalId }, body, headers: signedHeaders(body) }),
      serviceBusContext(),
      { secrets: [TEST_WEBHOOK_SECRET], runtime: async () => rt },
    );
    expect(answer.status).toBe(200);
    const callback = { entityOperations: counter.entityOperations, requests: counter.total };
    counter.reset();
    await dispatchAccountingUpdates(rt, quiet);
    const sweep = { entityOperations: counter.entityOperations, requests: counter.total };
    return { callback, sweep };
  }

  it('a 10-line posting and the sweep after it cost 9 entity operations (the target is 30 or fewer)', async () => {
    const { callback, sweep } = await post('OPS-10', 10);
    // receipt claim 1, header 1 (its digest of the lines' actual ids vouches for them: no line is read), outbox entry 1,
    // the state index's Posted entry 1, one transaction of 10 posted rows + the header, the LinesCreated entry removed
    // 1, the outbox entry removed once its updates are sent 1, the receipt's answer 1.
    expect(callback).toEqual({ entityOperations: 9, requests: 8 });
    // The outbox (one query over its 16 shards) and yesterday's receipts, each an empty query: requests, but no entity.
    expect(sweep).toEqual({ entityOperations: 0, requests: 2 });
    expect(callback.entityOperations + sweep.entityOperations).toBeLessThanOrEqual(30);
  });

  it('reads the lines when the header cannot vouch for them: a header from before the digest, or a posting naming other actuals', async () => {
    const p = proposalWithActuals({ proposalId: 'OPS-OLD', lines: 10 });
    for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]) await deliver(rt, m);
    await importFromStaging(rt, quiet);
    const pk = proposalPartition('usmf', 'OPS-OLD');
    const stored = (await rt.proposals.header(pk))!;
    expect(stored.value.lineActuals?.build).toBe(stored.value.activeBuild);
    const { lineActuals: _digest, ...before } = stored.value; // as a header written before the digest existed
    await rt.proposals.replaceHeader(pk, stored, before);

    const callback = async (actuals: typeof p.actuals) => {
      const body = JSON.stringify(postingFor(actuals));
      counter.reset();
      const answer = await recordPostingCallback(
        httpRequest({
          method: 'POST',
          url: 'http://x',
          params: { legalEntity: 'usmf', proposalId: 'OPS-OLD' },
          body,
          headers: signedHeaders(body),
        }),
        serviceBusContext(),
        { secrets: [TEST_WEBHOOK_SECRET], runtime: async () => rt },
      );
      return { answer, entityOperations: counter.entityOperations, requests: counter.total };
    };
    const other = { ...p.actuals[9]!, actualId: 'not-a-line-of-it' };
    const wrong = await callback([...p.actuals.slice(0, 9), other]);
    expect(wrong.answer.status).toBe(422);
    expect(JSON.stringify(wrong.answer.jsonBody)).toContain(`missing proposal lines for actuals ${p.actuals[9]!.actualId}`);
    const right = await callback(p.actuals);
    expect(right.answer.status).toBe(200);
    // as the 10-line posting above, and the 10 lines read in one more request (one page of lines)
    expect(right).toMatchObject({ entityOperations: 9 + 1, requests: 8 + 1 });
  });

  it('a posting of more than 1,000 lines answers once committed and leaves its updates to the sweep, which sends them all', async () => {
    const { callback, sweep } = await post('OPS-1001', 1001);
    // The 1,001 accounting amounts go about 50 to a row (docs/storage.md, "Pages of lines").
    let pages = 0;
    const filter = odata`PartitionKey eq ${proposalPartition('usmf', 'OPS-1001')} and RowKey ge 'posted|' and RowKey lt 'posted}'`;
    for await (const _ of rt.tables.proposals.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) pages++;
    expect(pages).toBeGreaterThan(1);
    expect(pages).toBeLessThan(1001 / 25);
    // receipt claim, header (no line read), outbox entry, Posted entry, one transaction of the pages + header,
    // LinesCreated entry removed, answer: no send.
    expect(callback.entityOperations).toBe(1 + 1 + 1 + 1 + pages + 1 + 1 + 1);
    // The sweep finds the outbox entry, reads the header and the pages back, sends, and removes the entry.
    expect(sweep.entityOperations).toBe(1 + 1 + pages + 1);
    expect(sent.filter((m) => m.body.proposalId === 'OPS-1001')).toHaveLength(1001);
  }, 120_000);
});
