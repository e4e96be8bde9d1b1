/**
 * Invoices far larger than dual-write's real-time sync takes: every line
 * arrives, the import shows all of them or none, and Finance's posting gets its
 * answer before the accounting updates go out, each exactly once. The bench
 * (measurement 8) takes 10,000 and 50,000 lines through the same path and
 * times it; here a size that crosses every boundary (100-row transactions, the
 * 1,000 lines a callback sends before answering) keeps the test quick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largeInvoiceEndToEnd, ServiceBusStandIn } from '../bench/large';
import { proposal } from '../bench/fixtures';
import { readSettings } from '../shared/config';
import { dispatchAccountingUpdates } from '../shared/pipeline/dispatchAccountingUpdates';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import { readProposal } from '../shared/pipeline/readModels';
import { SEND_WITH_ANSWER_MAX_LINES } from '../shared/pipeline/recordPosting';
import { MAX_BATCH } from '../shared/storage/batches';
import { createRuntime, type Runtime } from '../shared/runtime';
import { actualMessage, deliver, dropTables, headerMessage, quiet } from './support/reliability';
import { testEnvironment } from './support/runtime';

const LINES = SEND_WITH_ANSWER_MAX_LINES + 100;

describe(`a ${LINES.toLocaleString('en')}-line invoice (Service Bus stood in by memory, with its duplicate detection)`, () => {
  const sender = new ServiceBusStandIn();
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime(readSettings(testEnvironment()), { sender });
  });
  afterAll(async () => {
    if (rt) await dropTables(rt);
  });

  it('goes through end to end: every line on the invoice, the posting answered, every accounting update sent exactly once', async () => {
    const result = await largeInvoiceEndToEnd(rt, sender, LINES, { run: 'lt' });

    expect(result.posting).toEqual({ status: 200, lineCount: LINES });
    // Too large to send before answering: the callback sent nothing, the sweep sent every update once.
    expect(result.updatesSentBySweep).toBe(LINES);
    expect(sender.messagesSent).toBe(LINES);
    expect(sender.received.size).toBe(LINES);
    const { legalEntity, proposalId } = proposal('lt', 0, LINES).invoice;
    const view = await readProposal(rt, legalEntity, proposalId);
    expect(view?.status).toBe('Posted');
    expect(view?.lines).toHaveLength(LINES);
    expect(new Set(view?.lines.map((l) => l.actualId)).size).toBe(LINES);

    // The posting's outbox entry is gone: the next sweep sends nothing again.
    expect(await dispatchAccountingUpdates(rt, quiet)).toEqual({ postings: 0, sent: 0 });
    expect(sender.messagesSent).toBe(LINES);
  }, 120_000);

  it('is imported all or none: stopped between two of its transactions, no line shows; the next run shows them all', async () => {
    const p = proposal('lu', 0, LINES);
    for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]) await deliver(rt, m);
    const transactions = Math.ceil((2 * LINES + 2) / MAX_BATCH); // held marker, actual rows, line rows, header

    await expect(
      importFromStaging(rt, quiet, {
        beforeBatch: (_, index, total) => {
          expect(total).toBe(transactions);
          if (index === Math.floor(total / 2)) throw new Error('stopped between transactions (a crash)');
        },
      }),
    ).rejects.toThrow();
    const halfway = await readProposal(rt, p.invoice.legalEntity, p.invoice.proposalId);
    expect(halfway?.status).toBe('AwaitingLines');
    expect(halfway?.lines).toEqual([]);

    const summary = await importFromStaging(rt, quiet);
    expect(summary.outcomes.LinesCreated).toBe(1);
    const done = await readProposal(rt, p.invoice.legalEntity, p.invoice.proposalId);
    expect(done?.status).toBe('LinesCreated');
    expect(done?.lines).toHaveLength(LINES);
  }, 120_000);
});
