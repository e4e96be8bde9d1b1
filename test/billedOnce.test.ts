/**
 * An actual is billed at most once (docs/design.md#one-identity-per-actual): one
 * test per way it could be billed twice, or read wrong, as they were found by
 * trying the product as a new user would. Each of these failed before the
 * register decided first and staged only what it accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actual } from '../shared/contracts/actual';
import type { ConfirmedInvoice } from '../shared/contracts/invoiceProposal';
import { formatMoney, parseMoney, sumMoney } from '../shared/contracts/money';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import { recordPosting } from '../shared/pipeline/recordPosting';
import { readActual, readProposal } from '../shared/pipeline/readModels';
import { stageActual } from '../shared/pipeline/stageActual';
import { QUEUES } from '../shared/queues';
import type { Runtime } from '../shared/runtime';
import { GUID, invoice, proposalWithActuals } from './support/builders';
import { postingFor } from './support/posting';
import { actualMessage, deliver, dropTables, headerMessage, isolatedRuntime, quiet } from './support/reliability';

let rt: Runtime;
beforeAll(async () => {
  rt = await isolatedRuntime();
});
afterAll(async () => {
  if (rt) await dropTables(rt);
});

/** A proposal of one line whose actual is `a`, with a header that expects exactly it. */
function oneLine(proposalId: string, a: Actual, legalEntity = 'usmf'): ConfirmedInvoice {
  return invoice({
    proposalId,
    legalEntity,
    invoiceId: a.invoiceId!,
    detailAmount: a.amount,
    totalAmount: a.amount,
    transactionCount: 1,
    currency: a.currency,
  });
}

async function linesOf(legalEntity: string, proposalId: string): Promise<string[]> {
  return ((await readProposal(rt, legalEntity, proposalId))?.lines ?? []).map((l) => `${l.actualId}@${l.amount}`);
}

async function importNow() {
  await importFromStaging(rt, quiet);
}

/** Two proposals A and B of one line each, with the same invoice id (so an actual of one fits the other). */
function twoProposals(tag: string) {
  const a = proposalWithActuals({ proposalId: `${tag}-A`, lines: 1, seed: 1 }).actuals[0]!;
  const x = { ...a, actualId: GUID(Number.parseInt(tag.replace(/\D/g, ''), 10) || 7, 'move'), proposalId: `${tag}-A` };
  return { x, headerA: oneLine(`${tag}-A`, x), headerB: oneLine(`${tag}-B`, { ...x, proposalId: `${tag}-B` }) };
}

describe('an actual is billed at most once', () => {
  it('finding 1: a refused version (same version, other content) never becomes a line, of another proposal or as another type', async () => {
    const { x, headerA, headerB } = twoProposals('f1');
    for (const m of [headerMessage(headerA), headerMessage(headerB), actualMessage(x)]) await deliver(rt, m);
    await importNow();
    expect(await linesOf('usmf', 'f1-A')).toEqual([`${x.actualId}@${x.amount}`]);

    const otherProposal = await deliver(rt, actualMessage({ ...x, proposalId: 'f1-B' }));
    const otherType = await deliver(rt, actualMessage({ ...x, transactionType: 'Cost' }));
    expect([otherProposal.kind, otherType.kind]).toEqual(['quarantined', 'quarantined']);
    expect(otherProposal.detail).toMatch(/version 1 was already received with different content/);
    await importNow();

    expect(await linesOf('usmf', 'f1-B')).toEqual([]);
    expect((await readProposal(rt, 'usmf', 'f1-B'))!.status).toBe('AwaitingLines');
    expect(await linesOf('usmf', 'f1-A')).toEqual([`${x.actualId}@${x.amount}`]);
    expect((await readActual(rt, 'usmf', x.actualId))!).toMatchObject({
      transactionType: 'BilledSales',
      proposalId: 'f1-A',
      status: 'Processed',
    });
  });

  it('finding 2: a move cannot leak through an import that runs between any two of its steps', async () => {
    const { x, headerA, headerB } = twoProposals('f2');
    for (const m of [headerMessage(headerA), headerMessage(headerB), actualMessage(x)]) await deliver(rt, m);
    await importNow();
    const seen: string[] = [];
    // Between every step of the move's delivery an import runs, and the actual must be a line of one proposal at most.
    const step = async (name: string) => {
      await importNow();
      const [a, b] = await Promise.all([linesOf('usmf', 'f2-A'), linesOf('usmf', 'f2-B')]);
      seen.push(`${name}: A ${a.length} B ${b.length}`);
      expect(a.length + b.length, `after ${name}`).toBeLessThanOrEqual(1);
    };
    const moved = { ...x, version: 2, proposalId: 'f2-B' };
    const d = { source: QUEUES.actuals, messageId: 'move-f2', body: JSON.stringify(moved) };
    expect((await stageActual(rt, d, quiet, step)).kind).toBe('applied');
    await step('after the delivery');
    expect(seen.at(-1)).toBe('after the delivery: A 0 B 1');
    expect((await readProposal(rt, 'usmf', 'f2-A'))!.reason).toMatch(new RegExp(`actual ${x.actualId} no longer belongs to this proposal`));
  });

  it('finding 2, posted: once A is posted, a move to B is refused and B never gets it, whatever imports run meanwhile', async () => {
    const { x, headerA, headerB } = twoProposals('f22');
    for (const m of [headerMessage(headerA), headerMessage(headerB), actualMessage(x)]) await deliver(rt, m);
    await importNow();
    expect((await recordPosting(rt, 'usmf', 'f22-A', postingFor([x]), quiet)).kind).toBe('posted');
    const d = { source: QUEUES.actuals, messageId: 'move-f22', body: JSON.stringify({ ...x, version: 2, proposalId: 'f22-B' }) };
    const outcome = await stageActual(rt, d, quiet, () => importNow());
    expect(outcome.kind).toBe('quarantined');
    expect(outcome.detail).toMatch(/posted/);
    await importNow();
    expect(await linesOf('usmf', 'f22-B')).toEqual([]);
    expect((await recordPosting(rt, 'usmf', 'f22-B', postingFor([x]), quiet)).kind).toBe('conflict');
  });

  it('finding 3: version 2 naming another legal entity is the same actual: it moves there, it is not billed in both', async () => {
    const { x, headerA } = twoProposals('f3');
    const headerB = oneLine('f3-B', { ...x, proposalId: 'f3-B', legalEntity: 'demf' }, 'demf');
    for (const m of [headerMessage(headerA), headerMessage(headerB), actualMessage(x)]) await deliver(rt, m);
    await importNow();
    await deliver(rt, actualMessage({ ...x, version: 2, legalEntity: 'DEMF', proposalId: 'f3-B' }));
    await importNow();
    expect(await linesOf('usmf', 'f3-A')).toEqual([]);
    expect(await linesOf('demf', 'f3-B')).toEqual([`${x.actualId}@${x.amount}`]);
    expect((await recordPosting(rt, 'usmf', 'f3-A', postingFor([x]), quiet)).kind).toBe('conflict');
    expect((await recordPosting(rt, 'demf', 'f3-B', postingFor([x]), quiet)).kind).toBe('posted');
    expect(await readActual(rt, 'usmf', x.actualId)).toBeUndefined(); // found by id, shown where it is now
    expect((await readActual(rt, 'demf', x.actualId))!).toMatchObject({
      legalEntity: 'demf',
      proposalId: 'f3-B',
      billingStatus: 'CustomerInvoicePosted',
    });
  });

  it('finding 4: a move ends the same whichever version arrives first', async () => {
    const outcomes = [];
    for (const order of ['v1 first', 'v2 first'] as const) {
      const tag = order === 'v1 first' ? 'f41' : 'f42';
      const { x, headerA, headerB } = twoProposals(tag);
      const v2 = { ...x, version: 2, proposalId: `${tag}-B` };
      await deliver(rt, headerMessage(headerA));
      await deliver(rt, headerMessage(headerB));
      for (const a of order === 'v1 first' ? [x, v2] : [v2, x]) {
        await deliver(rt, actualMessage(a));
        await importNow();
      }
      const [a, b] = await Promise.all([readProposal(rt, 'usmf', `${tag}-A`), readProposal(rt, 'usmf', `${tag}-B`)]);
      outcomes.push(JSON.stringify([a, b]).replaceAll(tag, 'TAG').replaceAll(x.actualId, 'X'));
    }
    expect(outcomes[1]).toBe(outcomes[0]);
    expect(JSON.parse(outcomes[0]!)).toMatchObject([
      {
        status: 'AwaitingLines',
        reason:
          'waiting for billed sales actuals: 0 of 1 staged; actual X no longer belongs to this proposal (a newer version names another proposal or is not billed sales)',
      },
      { status: 'LinesCreated', lines: [{ actualId: 'X' }] },
    ]);
  });

  it('finding 5: a posted actual reads as posted, with its accounting, and shows a later refused version beside it', async () => {
    const { x, headerA, headerB } = twoProposals('f5');
    for (const m of [headerMessage(headerA), headerMessage(headerB), actualMessage(x)]) await deliver(rt, m);
    await importNow();
    await recordPosting(rt, 'usmf', 'f5-A', postingFor([x], { voucher: 'VOU-F5' }), quiet);
    // A later version, on the same proposal with another amount: refused, because the posted invoice keeps version 1.
    expect((await deliver(rt, actualMessage({ ...x, version: 2, amount: '1.00', price: '1.00', quantity: '1' }))).kind).toBe('quarantined');
    await importNow();
    const view = (await readActual(rt, 'usmf', x.actualId))!;
    expect(view).toMatchObject({ status: 'Processed', billingStatus: 'CustomerInvoicePosted', version: 1, amount: x.amount, reason: null });
    expect(view.accounting).toMatchObject({ voucher: 'VOU-F5', accountingAmount: x.amount });
    expect(view.refusedVersion).toEqual({
      version: 2,
      reason: expect.stringMatching(/version 2 changed, but version 1 is on proposal usmf\/f5-A, which is posted/),
    });
  });

  it('finding 7: a header with transactionCount 0 is refused at the door with the reason, so no proposal waits forever for nothing', async () => {
    const outcome = await deliver(rt, headerMessage(invoice({ proposalId: 'f7', transactionCount: 0 })));
    expect(outcome).toMatchObject({ kind: 'quarantined', detail: expect.stringMatching(/^transactionCount: must be at least 1/) });
    expect(await readProposal(rt, 'usmf', 'f7')).toBeUndefined();
  });

  it('finding 8: a corrective invoice naming an unknown or unposted original is accepted and flagged', async () => {
    const p = proposalWithActuals({ proposalId: 'f8-C', lines: 1 });
    await deliver(rt, headerMessage({ ...p.invoice, correctsProposalId: 'f8-NOPE' }));
    expect((await readProposal(rt, 'usmf', 'f8-C'))!.warnings).toEqual([
      'corrects proposal f8-NOPE, which this integration has not received; check the original in Finance',
    ]);
    const original = proposalWithActuals({ proposalId: 'f8-O', lines: 1 });
    await deliver(rt, headerMessage(original.invoice));
    await deliver(rt, headerMessage({ ...p.invoice, version: 2, correctsProposalId: 'f8-O' }));
    expect((await readProposal(rt, 'usmf', 'f8-C'))!.warnings).toEqual([
      expect.stringMatching(/^corrects proposal f8-O, which is not posted \(status AwaitingLines\)/),
    ]);
    await deliver(rt, actualMessage(original.actuals[0]!));
    await importNow();
    await recordPosting(rt, 'usmf', 'f8-O', postingFor(original.actuals), quiet);
    expect((await readProposal(rt, 'usmf', 'f8-C'))!.warnings).toEqual([]);
  });

  it('finding 8: reversal actuals make negative lines and the corrective posts as a credit note', async () => {
    const base = proposalWithActuals({ proposalId: 'f8-R', lines: 2 });
    const reversal = base.actuals.map((a, i) => ({
      ...a,
      actualId: GUID(80 + i, 'rev'),
      quantity: `-${a.quantity}`,
      amount: `-${a.amount}`,
    }));
    const detail = formatMoney(sumMoney(reversal.map((a) => a.amount)));
    await deliver(rt, headerMessage({ ...base.invoice, detailAmount: detail, totalAmount: detail, correctsProposalId: 'f8-ORIG' }));
    for (const a of reversal) await deliver(rt, actualMessage(a));
    await importNow();
    const view = (await readProposal(rt, 'usmf', 'f8-R'))!;
    expect(view).toMatchObject({ status: 'LinesCreated', invoiceType: 'CreditNote' });
    expect(view.lines.every((l) => parseMoney(l.amount) < 0n)).toBe(true);
    const posted = await recordPosting(rt, 'usmf', 'f8-R', postingFor(reversal), quiet);
    expect(posted).toMatchObject({ kind: 'posted', receipt: { invoiceType: 'CreditNote', lineCount: 2 } });
    expect((await readActual(rt, 'usmf', reversal[0]!.actualId))!.accounting).toMatchObject({ accountingAmount: reversal[0]!.amount });
  });

  it('finding 8: actual GUIDs differing only in letter case (or braces) are one actual', async () => {
    const p = proposalWithActuals({ proposalId: 'f8-G', lines: 1 });
    const x = { ...p.actuals[0]!, actualId: 'A1B2C3D4-0000-4000-8000-00000000F8AB' };
    await deliver(rt, headerMessage(p.invoice));
    await deliver(rt, actualMessage(x));
    expect((await deliver(rt, actualMessage({ ...x, actualId: '{a1b2c3d4-0000-4000-8000-00000000f8ab}' }))).kind).toBe('duplicate');
    expect((await deliver(rt, actualMessage({ ...x, actualId: x.actualId.toLowerCase(), proposalId: 'f8-OTHER' }))).kind).toBe(
      'quarantined',
    );
    await importNow();
    expect(await linesOf('usmf', 'f8-G')).toEqual([`a1b2c3d4-0000-4000-8000-00000000f8ab@${x.amount}`]);
    expect((await readActual(rt, 'usmf', x.actualId))!.status).toBe('Processed');
    const posting = await recordPosting(rt, 'usmf', 'f8-G', postingFor([{ actualId: x.actualId, amount: x.amount }]), quiet);
    expect(posting.kind).toBe('posted');
  });

  it('finding 8: null in an optional field (as Dataverse and Power Automate send an empty column) is treated as absent', async () => {
    const p = proposalWithActuals({ proposalId: 'f8-N', lines: 1 });
    const withNulls = { ...p.invoice, description: null, correctsProposalId: null };
    expect((await deliver(rt, headerMessage(withNulls as never))).kind).toBe('applied');
    const a = { ...p.actuals[0]!, taskId: null, unit: null, quantity: null, price: null };
    expect((await deliver(rt, actualMessage(a as never))).kind).toBe('applied');
    await importNow();
    expect((await readProposal(rt, 'usmf', 'f8-N'))!).toMatchObject({
      status: 'LinesCreated',
      description: null,
      lines: [{ quantity: null, price: null }],
    });
    // A required field that is null is still refused, by name.
    expect(await deliver(rt, actualMessage({ ...a, actualId: GUID(88, 'nul'), amount: null } as never))).toMatchObject({
      kind: 'quarantined',
      detail: expect.stringMatching(/^amount: /),
    });
  });
});

describe('a webhook-id names one callback', () => {
  it('finding 6: the same id for another proposal is refused with 422; the same request still answers as the first did', async () => {
    // Through the HTTP handler, because the webhook-id lives in the signed request, not in the posting.
    const { recordPostingCallback } = await import('../shared/http/postingCallback');
    const { httpRequest, serviceBusContext } = await import('./support/builders');
    const { signedHeaders } = await import('./support/posting');
    const { TEST_WEBHOOK_SECRET } = await import('./support/runtime');
    const ps = ['f6-A', 'f6-B'].map((id) => proposalWithActuals({ proposalId: id, lines: 1 }));
    for (const p of ps) for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]) await deliver(rt, m);
    await importNow();
    const call = (proposalId: string, body: string, headers: Record<string, string>) =>
      recordPostingCallback(
        httpRequest({ method: 'POST', url: 'http://x', params: { legalEntity: 'usmf', proposalId }, body, headers }),
        serviceBusContext(),
        { secrets: [TEST_WEBHOOK_SECRET], runtime: async () => rt },
      );
    const bodyA = JSON.stringify(postingFor(ps[0]!.actuals));
    const headers = signedHeaders(bodyA, { id: 'msg_f6_reused' });
    const first = await call('f6-A', bodyA, headers);
    expect(first.status).toBe(200);

    const bodyB = JSON.stringify(postingFor(ps[1]!.actuals));
    const reused = await call('f6-B', bodyB, signedHeaders(bodyB, { id: 'msg_f6_reused' }));
    expect(reused).toMatchObject({ status: 422, jsonBody: { type: expect.stringMatching(/webhook-id-reused$/), field: 'webhook-id' } });
    expect((await readProposal(rt, 'usmf', 'f6-B'))!.status).toBe('LinesCreated');
    // Same id, same route, another body: also refused.
    expect((await call('f6-A', bodyB, signedHeaders(bodyB, { id: 'msg_f6_reused' }))).status).toBe(422);

    const again = await call('f6-A', bodyA, headers);
    expect(again).toEqual(first);
  });
});
