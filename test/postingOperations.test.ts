/**
 * What a posting costs in Table Storage, counted exactly (entity operations are
 * what Azure bills and throttles; docs/capacity.md): a 10-line posting callback
 * and the outbox sweep after it. Counts, not timings, so they cannot regress
 * unseen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestCounter } from '../bench/support';
import { readSettings } from '../shared/config';
import type { OutboundMessage } from '../shared/messaging/accountingUpdates';
import { recordPostingCallback } from '../shared/http/postingCallback';
import { dispatchAccountingUpdates } from '../shared/pipeline/dispatchAccountingUpdates';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import { createRuntime, type Runtime } from '../shared/runtime';
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

  it('a 10-line posting and the sweep after it cost 28 entity operations (the target is 30 or fewer)', async () => {
    const { callback, sweep } = await post('OPS-10', 10);
    // receipt claim 1, the header and its 10 lines in one query (11 entities), outbox entry 1, the state index's Posted entry 1, one transaction
    // of 10 posted rows + the header, the LinesCreated entry removed 1, the outbox entry removed once its updates are
    // sent 1, the receipt's answer 1.
    expect(callback).toEqual({ entityOperations: 28, requests: 8 });
    // 16 outbox shards and yesterday's receipts, each an empty query: requests, but no entity.
    expect(sweep).toEqual({ entityOperations: 0, requests: 17 });
    expect(callback.entityOperations + sweep.entityOperations).toBeLessThanOrEqual(30);
  });

  it('a posting of more than 1,000 lines answers once committed and leaves its updates to the sweep, which sends them all', async () => {
    const { callback, sweep } = await post('OPS-1001', 1001);
    // receipt claim, header, the lines read (1001), outbox entry, Posted entry, 11 transactions of posted rows + header,
    // LinesCreated entry removed, answer: no send.
    expect(callback.entityOperations).toBe(1 + 1 + 1001 + 1 + 1 + 1002 + 1 + 1);
    // The sweep finds the outbox entry, reads the header and the posted rows back, sends, and removes the entry.
    expect(sweep.entityOperations).toBe(1 + 1 + 1001 + 1);
    expect(sent.filter((m) => m.body.proposalId === 'OPS-1001')).toHaveLength(1001);
  }, 120_000);
});
