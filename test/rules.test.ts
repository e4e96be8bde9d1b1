import { beforeAll, describe, expect, it } from 'vitest';
import { ServiceBusOutbound } from '../shared/messaging/serviceBus';
import { TableOutbound, type AccountingUpdateSender, type OutboundMessage } from '../shared/messaging/accountingUpdates';
import { dispatchAccountingUpdates } from '../shared/pipeline/dispatchAccountingUpdates';
import { useRuntime, type Runtime } from '../shared/runtime';
import { formatMoney, sumMoney } from '../shared/contracts/money';
import { actual, invoice, proposalWithActuals } from './support/builders';
import { postingFor } from './support/posting';
import { getActualView, getProposal, post, runImport, sendActual, sendHeader, writeProposal } from './support/story';
import { silentLog, testRuntime } from './support/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

const quarantined = async (source: string) => (await rt.quarantine.list(source)).map((q) => q.reason);

async function importedProposal(proposalId: string, lines = 3) {
  const p = proposalWithActuals({ proposalId, lines });
  await sendHeader(p.invoice);
  for (const a of p.actuals) await sendActual(a);
  await runImport();
  return p;
}

describe('docs/design.md#rules-the-system-keeps, each by name', () => {
  it('stale version ignored: a lower header version after a higher one changes nothing', async () => {
    const p = proposalWithActuals({ proposalId: 'STALE-1', lines: 1 });
    await sendHeader({ ...p.invoice, version: 5, description: 'v5' });
    await sendHeader({ ...p.invoice, version: 3, description: 'v3' });
    const { body } = await getProposal('usmf', 'STALE-1');
    expect(body.version).toBe(5);
    expect(body.description).toBe('v5');
    expect(await quarantined('project-invoice-proposals')).not.toContainEqual(expect.stringContaining('STALE-1'));
  });

  it('higher version wins, whichever arrives first', async () => {
    const p = proposalWithActuals({ proposalId: 'ORDER-1', lines: 2 });
    await sendHeader({ ...p.invoice, version: 2, description: 'second' });
    await sendHeader({ ...p.invoice, version: 1, description: 'first' });
    const q = proposalWithActuals({ proposalId: 'ORDER-2', lines: 2 });
    await sendHeader({ ...q.invoice, version: 1, description: 'first' });
    await sendHeader({ ...q.invoice, version: 2, description: 'second' });
    expect((await getProposal('usmf', 'ORDER-1')).body.description).toBe('second');
    expect((await getProposal('usmf', 'ORDER-2')).body.description).toBe('second');
  });

  it('stale actual version ignored: an older actual never replaces a newer one on a line', async () => {
    const p = proposalWithActuals({ proposalId: 'STALE-2', lines: 1 });
    const newer = { ...p.actuals[0]!, version: 2, quantity: '3' };
    await sendHeader(p.invoice);
    await sendActual(newer);
    await sendActual({ ...p.actuals[0]!, version: 1 });
    await runImport();
    const { body } = await getProposal('usmf', 'STALE-2');
    expect(body.lines).toEqual([expect.objectContaining({ actualId: newer.actualId, quantity: '3' })]);
    expect((await getActualView('usmf', newer.actualId)).body.version).toBe(2);
  });

  it('posted proposal protected: a header change after posting is quarantined and the proposal stays as posted', async () => {
    const p = await importedProposal('POSTED-1');
    expect((await post('usmf', 'POSTED-1', postingFor(p.actuals))).status).toBe(200);
    await sendHeader({ ...p.invoice, version: 2, description: 'changed after posting' });
    const { body } = await getProposal('usmf', 'POSTED-1');
    expect(body.status).toBe('Posted');
    expect(body.description).toBe(p.invoice.description);
    expect(await quarantined('project-invoice-proposals')).toContainEqual(
      expect.stringMatching(/POSTED-1 is already posted .*cannot change/),
    );
  });

  it('an actual that arrives after its proposal was posted is kept in quarantine with the reason, not silently dropped', async () => {
    const p = await importedProposal('POSTED-2', 2);
    await post('usmf', 'POSTED-2', postingFor(p.actuals));
    await sendActual(actual({ actualId: 'POSTED-2-late', invoiceId: p.invoice.invoiceId, proposalId: 'POSTED-2' }));
    await runImport();
    expect((await getProposal('usmf', 'POSTED-2')).body.lines).toHaveLength(2);
    expect(await quarantined('import-from-staging')).toContainEqual(
      expect.stringContaining('POSTED-2 is already posted; actual POSTED-2-late arrived too late'),
    );
  });

  it('a non-Confirmed status is rejected', async () => {
    await sendHeader({ ...invoice({ proposalId: 'DRAFT-1' }), status: 'Draft' });
    expect((await getProposal('usmf', 'DRAFT-1')).status).toBe(404);
    expect(await quarantined('project-invoice-proposals')).toContainEqual(expect.stringContaining('status: must be "Confirmed"'));
  });

  it('missing actuals keep a proposal AwaitingLines with a reason, and the staged actuals show why they wait', async () => {
    const p = proposalWithActuals({ proposalId: 'WAIT-1', lines: 4 });
    await sendHeader(p.invoice);
    for (const a of p.actuals.slice(0, 3)) await sendActual(a);
    await runImport();
    const { body } = await getProposal('usmf', 'WAIT-1');
    expect(body).toMatchObject({ status: 'AwaitingLines', reason: 'waiting for billed sales actuals: 3 of 4 staged', lines: [] });
    expect((await getActualView('usmf', p.actuals[0]!.actualId)).body).toMatchObject({
      status: 'Pending',
      reason: 'waiting for billed sales actuals: 3 of 4 staged',
      billingStatus: null,
    });
    await sendActual(p.actuals[3]);
    await runImport();
    expect((await getProposal('usmf', 'WAIT-1')).body).toMatchObject({ status: 'LinesCreated', reason: null });
    expect((await getActualView('usmf', p.actuals[0]!.actualId)).body).toMatchObject({
      status: 'Processed',
      billingStatus: 'CustomerInvoiceCreated',
      lineNumber: 1,
    });
  });

  it('actuals before their header wait visibly, then become lines when it arrives (order independence)', async () => {
    const p = proposalWithActuals({ proposalId: 'EARLY-1', lines: 3 });
    for (const a of p.actuals) await sendActual(a);
    await runImport();
    expect((await getActualView('usmf', p.actuals[1]!.actualId)).body).toMatchObject({
      status: 'Pending',
      reason: expect.stringContaining('waiting for the invoice header'),
    });
    await sendHeader(p.invoice);
    await runImport();
    expect((await getProposal('usmf', 'EARLY-1')).body.lines).toHaveLength(3);
  });

  it('amount mismatch gives Error with the reason, and a corrected actual version fixes it', async () => {
    const p = proposalWithActuals({ proposalId: 'MISMATCH-1', lines: 2 });
    await sendHeader(p.invoice);
    await sendActual(p.actuals[0]);
    await sendActual({ ...p.actuals[1]!, amount: '1.00' });
    await runImport();
    const { body } = await getProposal('usmf', 'MISMATCH-1');
    expect(body.status).toBe('Error');
    expect(body.reason).toBe(
      `amount mismatch: the 2 billed sales actuals sum to ${formatMoney(sumMoney([p.actuals[0]!.amount, '1.00']))} but detailAmount is ${p.invoice.detailAmount}`,
    );
    expect(body.lines).toEqual([]);
    await sendActual({ ...p.actuals[1]!, version: 2 });
    await runImport();
    expect((await getProposal('usmf', 'MISMATCH-1')).body).toMatchObject({ status: 'LinesCreated', reason: null });
  });

  it('invalid message quarantined with the field named, raw, and the function returns normally', async () => {
    const raw = JSON.stringify({ ...actual({ actualId: 'BAD-1' }), amount: 12.5, documentDate: '20/11/2026' });
    await expect(sendActual(raw, 'bad-message-1')).resolves.toBeUndefined();
    const [q] = (await rt.quarantine.list('project-actuals')).filter((m) => m.messageId === 'bad-message-1');
    expect(q!.reason).toContain('amount:');
    expect(q!.reason).toContain('documentDate: must be an ISO date');
    expect(q!.raw).toBe(raw);
    await sendActual(raw, 'bad-message-1'); // redelivered: kept once
    expect((await rt.quarantine.list('project-actuals')).filter((m) => m.messageId === 'bad-message-1')).toHaveLength(1);
    await sendHeader('{ not json', 'bad-message-2');
    expect((await rt.quarantine.list('project-invoice-proposals')).find((m) => m.messageId === 'bad-message-2')?.reason).toBe(
      'body: is not valid JSON',
    );
  });

  it('non-billed actuals are kept too, marked as not for a proposal line', async () => {
    await sendActual(actual({ actualId: 'COST-1', transactionType: 'Cost', invoiceId: undefined, proposalId: undefined }));
    await sendActual(actual({ actualId: 'UNBILLED-1', transactionType: 192350005 as never, invoiceId: undefined, proposalId: undefined }));
    expect((await getActualView('usmf', 'COST-1')).body).toMatchObject({
      status: 'NotForInvoice',
      transactionType: 'Cost',
      proposalId: null,
    });
    expect((await getActualView('usmf', 'UNBILLED-1')).body).toMatchObject({ status: 'NotForInvoice', transactionType: 'UnbilledSales' });
  });

  it('repeated posting is a no-op that answers as the first did', async () => {
    const p = await importedProposal('REPEAT-1');
    const first = await post('usmf', 'REPEAT-1', postingFor(p.actuals));
    const before = await rt.tables.proposals.listEntities().byPage().next();
    const again = await post('usmf', 'REPEAT-1', postingFor(p.actuals));
    expect(again).toEqual(first);
    const after = await rt.tables.proposals.listEntities().byPage().next();
    expect(after.value.map((e: any) => [e.rowKey, e.etag])).toEqual(before.value.map((e: any) => [e.rowKey, e.etag]));
  });

  it('conflicting posting is 409 and changes nothing', async () => {
    const p = await importedProposal('CONFLICT-1');
    await post('usmf', 'CONFLICT-1', postingFor(p.actuals));
    const other = await post('usmf', 'CONFLICT-1', postingFor(p.actuals, { voucher: 'VOU-OTHER' }));
    expect(other.status).toBe(409);
    expect(other.headers['content-type']).toBe('application/problem+json');
    expect(other.body.detail).toMatch(/already posted as customer invoice CIV-000777 \(voucher VOU-000555\)/);
    expect((await getProposal('usmf', 'CONFLICT-1')).body.posting.voucher).toBe('VOU-000555');
  });

  it('a posting must name exactly the proposal lines (422 naming lines), and only a proposal with lines can be posted (409)', async () => {
    const p = await importedProposal('EXACT-1', 3);
    const short = await post('usmf', 'EXACT-1', postingFor(p.actuals.slice(0, 2)));
    expect(short).toMatchObject({
      status: 422,
      body: { field: 'lines', detail: expect.stringContaining(`missing proposal lines for actuals ${p.actuals[2]!.actualId}`) },
    });
    const waiting = proposalWithActuals({ proposalId: 'EXACT-2', lines: 2 });
    await sendHeader(waiting.invoice);
    expect((await post('usmf', 'EXACT-2', postingFor(waiting.actuals))).status).toBe(409);
    expect((await post('usmf', 'NOPE-1', postingFor(waiting.actuals))).status).toBe(404);
  });

  it('405 on create/delete: proposals are created and deleted only from Dataverse', async () => {
    for (const [method, path] of [
      ['POST', ''],
      ['POST', 'usmf'],
      ['PUT', 'usmf/P-1'],
      ['DELETE', 'usmf/P-1'],
      ['PATCH', 'usmf/P-1'],
    ] as const) {
      const r = await writeProposal(method, path);
      expect(r.status).toBe(405);
      expect(r.headers['content-type']).toBe('application/problem+json');
      expect(r.headers.allow).toBe('GET');
      expect(r.body.detail).toContain('created and deleted only from Dataverse');
    }
  });
});

describe('keys: ids from other systems never break a key or a filter', () => {
  it.each([
    ['slash', 'A/B'],
    ['hash', 'A#1'],
    ['question mark', 'Q?x=1'],
    ['backslash', 'C\\D'],
    ['quote', "O'Brien"],
    ['OData injection', "' or true or '"],
    ['percent and pipe', '50%|x'],
  ])('a proposal id with a %s round-trips intact', async (_, proposalId) => {
    const legalEntity = "u/'#";
    const p = proposalWithActuals({ proposalId, lines: 2, legalEntity });
    p.actuals[0]!.actualId = `${proposalId}\\act/1?`;
    await sendHeader(p.invoice);
    for (const a of p.actuals) await sendActual(a);
    await runImport();
    const { status, body } = await getProposal(legalEntity, proposalId);
    expect(status).toBe(200);
    expect(body).toMatchObject({ legalEntity, proposalId, status: 'LinesCreated' });
    expect(body.lines.map((l: any) => l.actualId).sort()).toEqual(p.actuals.map((a) => a.actualId).sort());
    expect((await getActualView(legalEntity, p.actuals[0]!.actualId)).body).toMatchObject({
      actualId: p.actuals[0]!.actualId,
      proposalId,
      status: 'Processed',
    });
  });
});

describe('outbox: a failed send loses nothing', () => {
  it('a posting whose Service Bus send fails (mocked sender: no namespace here) is answered 200 and sent by the outbox sweep', async () => {
    const p = await importedProposal('OUTBOX-1', 3);
    const failing: AccountingUpdateSender = {
      send: async () => {
        throw new Error('Service Bus unavailable');
      },
    };
    useRuntime({ ...rt, sender: failing });
    expect((await post('usmf', 'OUTBOX-1', postingFor(p.actuals))).status).toBe(200);
    useRuntime(rt);
    const outbound = new TableOutbound(rt.tables.localOutbound, 'actuals-accounting-updates');
    const ids = (await outbound.read()).map((m) => m.body.actualId);
    expect(ids.filter((id) => id.startsWith('OUTBOX-1'))).toEqual([]);
    const result = await dispatchAccountingUpdates(rt, silentLog);
    expect(result.sent).toBeGreaterThanOrEqual(3);
    const after = (await outbound.read()).filter((m) => m.body.proposalId === 'OUTBOX-1');
    expect(after.map((m) => m.body.actualId).sort()).toEqual(p.actuals.map((a) => a.actualId).sort());
    expect((await dispatchAccountingUpdates(rt, silentLog)).sent).toBe(0); // nothing twice
  });

  it('the Service Bus sender (mocked sender: no namespace here) batches messages with their deterministic ids', async () => {
    const sent: { messageId: unknown; body: unknown }[][] = [];
    const fake = {
      createMessageBatch: async () => {
        const items: { messageId: unknown; body: unknown }[] = [];
        return {
          get count() {
            return items.length;
          },
          tryAddMessage: (m: any) => (items.length < 2 ? (items.push(m), true) : false),
          items,
        } as any;
      },
      sendMessages: async (batch: any) => void sent.push(batch.items),
    };
    const messages: OutboundMessage[] = ['a', 'b', 'c'].map((id) => ({ messageId: `acct-${id}`, body: { actualId: id } as never }));
    await new ServiceBusOutbound(fake).send(messages);
    expect(sent.map((b) => b.map((m) => m.messageId))).toEqual([['acct-a', 'acct-b'], ['acct-c']]);
  });
});

describe('posting callback receipts', () => {
  it('are kept for a week after the signed day and then dropped by the outbox sweep', async () => {
    const now = new Date('2026-11-20T12:00:00Z');
    const day = (d: number) => new Date(now.getTime() - d * 86_400_000);
    for (const [id, age] of [
      ['old', 8],
      ['kept', 7],
      ['today', 0],
    ] as const) {
      const claim = await rt.webhookReceipts.claim(`msg_${id}`, day(age), day(age), 'request');
      if (claim.kind !== 'claimed') throw new Error('claim failed');
      await rt.webhookReceipts.answer(`msg_${id}`, day(age), claim.etag, { status: 200, body: { id } });
    }
    await dispatchAccountingUpdates({ ...rt, now: () => now }, silentLog);
    expect((await rt.webhookReceipts.claim('msg_old', day(8), now, 'request')).kind).toBe('claimed'); // forgotten
    expect(await rt.webhookReceipts.claim('msg_kept', day(7), now, 'request')).toEqual({
      kind: 'answered',
      answer: { status: 200, body: { id: 'kept' } },
    });
    expect(await rt.webhookReceipts.claim('msg_today', day(0), now, 'request')).toEqual({
      kind: 'answered',
      answer: { status: 200, body: { id: 'today' } },
    });
  });
});
