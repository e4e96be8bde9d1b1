/**
 * An actual that went straight onto a line has no parked row of its own
 * (docs/storage.md, "Lines carry the actuals"). These are the cases where that
 * could forget an actual: the lines leave show and their build is dropped, or
 * the actual moves away while its line is on show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProposal } from '../shared/pipeline/readModels';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import type { Runtime } from '../shared/runtime';
import { proposalWithActuals } from './support/builders';
import { actualMessage, deliver, dropTables, headerMessage, isolatedRuntime, quiet } from './support/reliability';

describe('lines carry the actuals (no parked row beside a line)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await isolatedRuntime();
  });
  afterAll(async () => {
    if (rt) await dropTables(rt);
  });

  it('a header version that no longer fits drops the lines but keeps the actuals, and one that fits again gets the same lines back', async () => {
    const p = proposalWithActuals({ proposalId: 'CARRY-1', lines: 4 });
    for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]) await deliver(rt, m);
    await importFromStaging(rt, quiet);
    const first = await readProposal(rt, 'usmf', 'CARRY-1');
    expect(first).toMatchObject({ status: 'LinesCreated' });

    await deliver(rt, headerMessage({ ...p.invoice, version: 2, transactionCount: 5 }));
    await importFromStaging(rt, quiet);
    expect(await readProposal(rt, 'usmf', 'CARRY-1')).toMatchObject({ status: 'AwaitingLines', lines: [] });

    // Nothing new is staged for the actuals: only what the proposal kept of them can build the lines again.
    await deliver(rt, headerMessage({ ...p.invoice, version: 3 }));
    await importFromStaging(rt, quiet);
    const again = await readProposal(rt, 'usmf', 'CARRY-1');
    expect(again).toMatchObject({ status: 'LinesCreated' });
    expect(again?.lines).toEqual(first?.lines);
  });

  it('an actual that moves away while its line is on show takes the lines off show, and the other proposal gets it', async () => {
    const from = proposalWithActuals({ proposalId: 'CARRY-FROM', lines: 2 });
    const to = proposalWithActuals({ proposalId: 'CARRY-TO', lines: 1 });
    for (const m of [headerMessage(from.invoice), ...from.actuals.map(actualMessage)]) await deliver(rt, m);
    await importFromStaging(rt, quiet);
    expect(await readProposal(rt, 'usmf', 'CARRY-FROM')).toMatchObject({ status: 'LinesCreated' });

    const moved = {
      ...from.actuals[0]!,
      version: 2,
      proposalId: 'CARRY-TO',
      invoiceId: to.invoice.invoiceId,
      amount: to.actuals[0]!.amount,
    };
    await deliver(rt, headerMessage(to.invoice));
    await deliver(rt, actualMessage(moved));
    // At once, before any import: the line of an actual that is no longer the proposal's is off show.
    expect(await readProposal(rt, 'usmf', 'CARRY-FROM')).toMatchObject({ status: 'AwaitingLines', lines: [] });
    await importFromStaging(rt, quiet);
    expect(await readProposal(rt, 'usmf', 'CARRY-FROM')).toMatchObject({ status: 'AwaitingLines', lines: [] });
    const target = await readProposal(rt, 'usmf', 'CARRY-TO');
    expect(target).toMatchObject({ status: 'LinesCreated' });
    expect(target?.lines.map((l) => l.actualId)).toEqual([moved.actualId]);
  });
});
