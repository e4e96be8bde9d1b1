/**
 * A build's lines are stored about 24 to a row, and a posting's accounting amounts about 50, each page keyed
 * by the last actual on it (docs/storage.md, "Pages of lines"). What must not change for a user: every line
 * shows once and in order, an actual's own answer finds its line and its accounting wherever the page
 * boundaries fall, a move takes the lines off show from any page, and proposals whose lines were stored one
 * to a row (before pages) read and rebuild as before.
 */
import { odata } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BilledSalesActual } from '../shared/contracts/actual';
import { buildId, numberLines, type ProposalLine } from '../shared/domain/importPlan';
import { importFromStaging } from '../shared/pipeline/importFromStaging';
import { recordPosting } from '../shared/pipeline/recordPosting';
import { readActual, readProposal } from '../shared/pipeline/readModels';
import { proposalPartition } from '../shared/storage/keys';
import { PAGE_CHARS } from '../shared/storage/pages';
import { linePageEntities, lineRow } from '../shared/storage/proposalRows';
import type { Runtime } from '../shared/runtime';
import { proposalWithActuals } from './support/builders';
import { postingFor } from './support/posting';
import { actualMessage, deliver, dropTables, headerMessage, isolatedRuntime, orphanLines, quiet, snapshot } from './support/reliability';

const billed = (p: ReturnType<typeof proposalWithActuals>) => p.actuals as BilledSalesActual[];

describe('pages of lines (linePageEntities)', () => {
  it('cuts the lines in key order into pages under the limit, each keyed by its last actual, every line on exactly one page', () => {
    const p = proposalWithActuals({ proposalId: 'PAGES', lines: 100 });
    const pages = linePageEntities('pk', 'b1', numberLines(billed(p)));
    expect(pages.length).toBeGreaterThan(3);
    const onPages = pages.map((page) => JSON.parse(page.json) as ProposalLine[]);
    for (const [i, page] of pages.entries()) {
      expect(page.json.length).toBeLessThanOrEqual(PAGE_CHARS);
      const keys = onPages[i]!.map((l) => lineRow('b1', l.actual.actualId));
      expect(keys).toEqual([...keys].sort());
      expect(page.rowKey).toBe(keys.at(-1)); // the page is found from any of its actuals: the first key at or after it
      if (i > 0) expect(pages[i - 1]!.rowKey < keys[0]!).toBe(true);
    }
    expect(
      onPages
        .flat()
        .map((l) => l.lineNumber)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('gives the same pages for the same lines in any order (a build written again rewrites the same rows)', () => {
    const lines = numberLines(billed(proposalWithActuals({ proposalId: 'SAME', lines: 50 })));
    expect(linePageEntities('pk', 'b', [...lines].reverse())).toEqual(linePageEntities('pk', 'b', lines));
  });
});

describe('pages of lines in storage (Azurite)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await isolatedRuntime();
  });
  afterAll(async () => {
    if (rt) await dropTables(rt);
  });

  async function imported(proposalId: string, lines: number) {
    const p = proposalWithActuals({ proposalId, lines });
    for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]) await deliver(rt, m);
    await importFromStaging(rt, quiet);
    return p;
  }

  it('a 60-line proposal shows its 60 lines in order, and each actual finds its own line on whichever page holds it', async () => {
    const p = await imported('PAGED-60', 60);
    const view = (await readProposal(rt, 'usmf', 'PAGED-60'))!;
    expect(view.status).toBe('LinesCreated');
    expect(view.lines.map((l) => l.lineNumber)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const pk = proposalPartition('usmf', 'PAGED-60');
    const rows: string[] = [];
    for await (const e of rt.tables.proposals.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] } }))
      if (String(e.rowKey).startsWith('line|')) rows.push(String(e.rowKey));
    expect(rows.length).toBe(3);
    for (const a of p.actuals) {
      const answer = (await readActual(rt, 'usmf', a.actualId))!;
      expect(answer.lineNumber, a.actualId).toBe(view.lines.find((l) => l.actualId === a.actualId)!.lineNumber);
    }
  });

  it('a posting of 120 lines keeps its accounting amounts in pages too, and each actual answers with its own', async () => {
    const p = await imported('POSTED-120', 120);
    const amounts = p.actuals.map((a, i) => ({ actualId: a.actualId, amount: `${i + 1}.01` }));
    const result = await recordPosting(rt, 'usmf', 'POSTED-120', postingFor(amounts, { voucher: 'VOU-PAGES' }), quiet);
    expect(result.kind).toBe('posted');
    const pk = proposalPartition('usmf', 'POSTED-120');
    const rows: string[] = [];
    for await (const e of rt.tables.proposals.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] } }))
      if (String(e.rowKey).startsWith('posted|')) rows.push(String(e.rowKey));
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.length).toBeLessThan(10);
    for (const [i, a] of p.actuals.entries()) {
      const answer = (await readActual(rt, 'usmf', a.actualId))!;
      expect(answer.accounting, a.actualId).toMatchObject({ voucher: 'VOU-PAGES', accountingAmount: `${i + 1}.01` });
    }
  });

  it('an actual that is not the last on its page (so not its key) moves away: the lines go off show, and the other proposal gets it', async () => {
    const from = await imported('PAGED-FROM', 60);
    const to = proposalWithActuals({ proposalId: 'PAGED-TO', lines: 1 });
    const first = [...from.actuals].sort((a, b) => (lineRow('x', a.actualId) < lineRow('x', b.actualId) ? -1 : 1))[0]!;
    const moved = { ...first, version: 2, proposalId: 'PAGED-TO', invoiceId: to.invoice.invoiceId, amount: to.actuals[0]!.amount };
    await deliver(rt, headerMessage(to.invoice));
    await deliver(rt, actualMessage(moved));
    expect(await readProposal(rt, 'usmf', 'PAGED-FROM')).toMatchObject({ status: 'AwaitingLines', lines: [] });
    await importFromStaging(rt, quiet);
    expect((await readProposal(rt, 'usmf', 'PAGED-TO'))?.lines.map((l) => l.actualId)).toEqual([moved.actualId]);
  });

  it('a proposal whose lines were stored one to a row (before pages) reads, answers per actual and rebuilds as before', async () => {
    const p = await imported('ONE-PER-ROW', 30);
    const pk = proposalPartition('usmf', 'ONE-PER-ROW');
    const before = await readProposal(rt, 'usmf', 'ONE-PER-ROW');
    // Rewrite the build as the product stored it before pages: a row per line, keyed by its actual, holding that line.
    const pages: { rowKey: string; json: string }[] = [];
    for await (const e of rt.tables.proposals.listEntities<{ json: string }>({ queryOptions: { filter: odata`PartitionKey eq ${pk}` } }))
      if (String(e.rowKey).startsWith('line|')) pages.push({ rowKey: String(e.rowKey), json: e.json });
    const build = pages[0]!.rowKey.split('|')[1]!;
    for (const page of pages) await rt.tables.proposals.deleteEntity(pk, page.rowKey);
    for (const line of pages.flatMap((page) => JSON.parse(page.json) as ProposalLine[]))
      await rt.tables.proposals.createEntity({
        partitionKey: pk,
        rowKey: lineRow(build, line.actual.actualId),
        json: JSON.stringify(line),
      });

    expect(await readProposal(rt, 'usmf', 'ONE-PER-ROW')).toEqual(before);
    expect((await readActual(rt, 'usmf', p.actuals[7]!.actualId))?.lineNumber).toBe(
      before!.lines.find((l) => l.actualId === p.actuals[7]!.actualId)!.lineNumber,
    );
    // A new version of one actual: a new build in pages, and the 30 one-line rows of the old build deleted.
    await deliver(rt, actualMessage({ ...p.actuals[7]!, version: 2, documentDate: '2026-11-30' }));
    await importFromStaging(rt, quiet);
    const after = (await readProposal(rt, 'usmf', 'ONE-PER-ROW'))!;
    expect(after.status).toBe('LinesCreated');
    expect(after.lines).toHaveLength(30);
    expect(orphanLines(await snapshot(rt)).filter((r) => r.partitionKey === pk)).toEqual([]);
  });

  it('rows of one line each that an import left before dying (before pages) are deleted when the same build is written as pages', async () => {
    const p = proposalWithActuals({ proposalId: 'LEFT-BEHIND', lines: 30 });
    for (const m of [headerMessage(p.invoice), ...p.actuals.map(actualMessage)]) await deliver(rt, m);
    // What an import of the old layout wrote before it died: the held marker and a few line rows of the build it
    // was committing, which the next import computes again (a build's id follows from its actuals).
    const pk = proposalPartition('usmf', 'LEFT-BEHIND');
    const lines = numberLines(billed(p));
    const build = buildId(billed(p));
    const byKey = [...lines].sort((a, b) => (lineRow(build, a.actual.actualId) < lineRow(build, b.actual.actualId) ? -1 : 1));
    await rt.tables.proposals.createEntity({ partitionKey: pk, rowKey: `held|${pk}` });
    for (const line of [byKey[9]!, byKey[20]!])
      await rt.tables.proposals.createEntity({
        partitionKey: pk,
        rowKey: lineRow(build, line.actual.actualId),
        json: JSON.stringify(line),
      });

    await importFromStaging(rt, quiet);
    const view = (await readProposal(rt, 'usmf', 'LEFT-BEHIND'))!;
    expect(view.status).toBe('LinesCreated');
    const pageKeys = linePageEntities(pk, build, lines).map((e) => e.rowKey);
    const stored: string[] = [];
    for await (const e of rt.tables.proposals.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] } }))
      if (String(e.rowKey).startsWith('line|')) stored.push(String(e.rowKey));
    expect(stored.sort()).toEqual([...pageKeys].sort());
    for (const a of p.actuals)
      expect((await readActual(rt, 'usmf', a.actualId))?.lineNumber, a.actualId).toBe(
        view.lines.find((l) => l.actualId === a.actualId)!.lineNumber,
      );
  });
});
