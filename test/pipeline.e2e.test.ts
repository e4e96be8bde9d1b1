import { beforeAll, describe, expect, it } from 'vitest';
import type { HttpResponseInit } from '@azure/functions';
import importFunction from '../functions/importFromStaging';
import recordPosting from '../functions/recordPosting';
import getInvoiceProposal from '../functions/getInvoiceProposal';
import getActual from '../functions/getActual';
import syncActuals from '../functions/syncActuals';
import syncInvoiceProposal from '../functions/syncInvoiceProposal';
import { TableOutbound } from '../shared/messaging/accountingUpdates';
import { formatMoney, sumMoney } from '../shared/contracts/money';
import type { Runtime } from '../shared/runtime';
import type { HttpFunction, ServiceBusFunction } from '../shared/hosting/definition';
import { deliverMessage, httpRequest, proposalWithActuals, serviceBusContext } from './support/builders';
import { postingFor, signedHeaders } from './support/posting';
import { testRuntime } from './support/runtime';

const timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

async function deliver(fn: ServiceBusFunction, body: unknown, messageId: string) {
  await deliverMessage(fn, JSON.stringify(body), messageId);
}

async function call(fn: HttpFunction, init: Parameters<typeof httpRequest>[0]) {
  const response = (await fn.handler(httpRequest(init), serviceBusContext())) as HttpResponseInit;
  return { status: response.status, body: response.jsonBody as any, headers: response.headers as Record<string, string> };
}

const proposals = [
  proposalWithActuals({ proposalId: 'PINV-000001', lines: 1 }),
  proposalWithActuals({ proposalId: 'PINV-000007', lines: 7, tax: '12.34' }),
  proposalWithActuals({ proposalId: 'PINV-000120', lines: 120, legalEntity: 'DEMF', currency: 'EUR' }),
];

describe('the whole story: confirm, stage, import, post (handlers driven against Azurite)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await testRuntime();
  });

  it('turns confirmed invoices and their actuals into proposals with every line, once, and writes the posting back', async () => {
    // Half of each proposal's actuals arrive before its header, half after; every message twice.
    for (const p of proposals) {
      const half = Math.ceil(p.actuals.length / 2);
      for (const a of p.actuals.slice(0, half)) {
        await deliver(syncActuals, a, `a-${a.actualId}`);
        await deliver(syncActuals, a, `a-${a.actualId}`);
      }
      await deliver(syncInvoiceProposal, p.invoice, `h-${p.invoice.proposalId}`);
      await deliver(syncInvoiceProposal, p.invoice, `h-${p.invoice.proposalId}`);
    }
    // An import before the rest arrive creates nothing: all lines or none.
    await importFunction.handler(timer, serviceBusContext());
    for (const p of proposals.filter((p) => p.actuals.length > 1)) {
      const view = await call(getInvoiceProposal, {
        method: 'GET',
        url: 'http://x',
        params: { legalEntity: p.invoice.legalEntity, proposalId: p.invoice.proposalId },
      });
      expect(view.body.status).toBe('AwaitingLines');
      expect(view.body.lines).toEqual([]);
      expect(view.body.reason).toBe(`waiting for billed sales actuals: ${Math.ceil(p.actuals.length / 2)} of ${p.actuals.length} staged`);
    }
    for (const p of proposals) {
      for (const a of p.actuals.slice(Math.ceil(p.actuals.length / 2))) {
        await deliver(syncActuals, a, `a-${a.actualId}`);
        await deliver(syncActuals, a, `a-${a.actualId}`);
      }
    }
    await importFunction.handler(timer, serviceBusContext());
    await importFunction.handler(timer, serviceBusContext()); // a second run finds nothing to do

    for (const p of proposals) {
      const { status, body } = await call(getInvoiceProposal, {
        method: 'GET',
        url: 'http://x',
        params: { legalEntity: p.invoice.legalEntity.toUpperCase(), proposalId: p.invoice.proposalId },
      });
      expect(status).toBe(200);
      expect(body).toMatchObject({
        legalEntity: p.invoice.legalEntity.toLowerCase(),
        proposalId: p.invoice.proposalId,
        invoiceId: p.invoice.invoiceId,
        status: 'LinesCreated',
        reason: null,
        currency: p.invoice.currency,
        detailAmount: p.invoice.detailAmount,
        totalTax: p.invoice.totalTax,
        totalAmount: p.invoice.totalAmount,
        transactionCount: p.actuals.length,
        posting: null,
      });
      expect(body.lines).toHaveLength(p.actuals.length);
      expect(body.lines.map((l: any) => l.lineNumber)).toEqual(p.actuals.map((_, i) => i + 1));
      expect(new Set(body.lines.map((l: any) => l.actualId)).size).toBe(p.actuals.length); // no line twice
      expect(formatMoney(sumMoney(body.lines.map((l: any) => l.amount)))).toBe(p.invoice.detailAmount);
      for (const a of p.actuals) {
        const line = body.lines.find((l: any) => l.actualId === a.actualId);
        expect(line).toMatchObject({
          amount: a.amount,
          quantity: a.quantity,
          price: a.price,
          projectId: a.projectId,
          transactionClassification: a.transactionClassification,
        });
      }
    }
    // Every line in storage belongs to the active build: nothing doubled behind the view. Lines are stored
    // about 23 to a row (docs/storage.md, "Pages of lines"): 1 + 1 + 6 rows here.
    const lineRows: string[] = [];
    let stored = 0;
    for await (const e of rt.tables.proposals.listEntities<{ json: string }>({ queryOptions: { select: ['RowKey', 'json'] } }))
      if (String(e.rowKey).startsWith('line|')) {
        lineRows.push(String(e.rowKey));
        stored += (JSON.parse(e.json) as unknown[]).length;
      }
    expect(stored).toBe(1 + 7 + 120);
    expect(lineRows).toHaveLength(1 + 1 + 6);

    // Finance posts each customer invoice.
    for (const [i, p] of proposals.entries()) {
      const posting = postingFor(p.actuals, { customerInvoiceId: `CIV-${i}`, voucher: `VOU-${i}`, accountingCurrency: p.invoice.currency });
      const body = JSON.stringify(posting);
      const res = await call(recordPosting, {
        method: 'POST',
        url: 'http://x',
        params: { legalEntity: p.invoice.legalEntity, proposalId: p.invoice.proposalId },
        headers: signedHeaders(body),
        body,
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        legalEntity: p.invoice.legalEntity.toLowerCase(),
        proposalId: p.invoice.proposalId,
        status: 'Posted',
        invoiceType: 'Invoice',
        customerInvoiceId: `CIV-${i}`,
        voucher: `VOU-${i}`,
        accountingDate: '2026-11-21',
        lineCount: p.actuals.length,
      });
    }

    for (const [i, p] of proposals.entries()) {
      const view = await call(getInvoiceProposal, {
        method: 'GET',
        url: 'http://x',
        params: { legalEntity: p.invoice.legalEntity, proposalId: p.invoice.proposalId },
      });
      expect(view.body.status).toBe('Posted');
      expect(view.body.posting).toEqual({
        customerInvoiceId: `CIV-${i}`,
        voucher: `VOU-${i}`,
        accountingDate: '2026-11-21',
        accountingCurrency: p.invoice.currency,
        exchangeRate: '1',
      });
      for (const a of p.actuals) {
        const res = await call(getActual, { method: 'GET', url: 'http://x', params: { legalEntity: a.legalEntity, actualId: a.actualId } });
        expect(res.body).toMatchObject({
          actualId: a.actualId,
          proposalId: p.invoice.proposalId,
          status: 'Processed',
          billingStatus: 'CustomerInvoicePosted',
          accounting: {
            voucher: `VOU-${i}`,
            accountingDate: '2026-11-21',
            accountingAmount: a.amount,
            salesTaxAmount: '0.00',
            exchangeRate: '1',
            accountingCurrency: p.invoice.currency,
            customerInvoiceId: `CIV-${i}`,
          },
        });
      }
    }

    // One accounting update per actual reached the outbound queue (the local stand-in: no namespace here).
    const sent = await new TableOutbound(rt.tables.localOutbound, 'actuals-accounting-updates').read();
    expect(sent).toHaveLength(128);
    expect(new Set(sent.map((m) => m.body.actualId)).size).toBe(128);
    const one = sent.find((m) => m.body.actualId === proposals[1]!.actuals[3]!.actualId)!;
    expect(one.body).toMatchObject({
      billingStatus: 'CustomerInvoicePosted',
      voucher: 'VOU-1',
      accountingAmount: proposals[1]!.actuals[3]!.amount,
      invoiceId: proposals[1]!.invoice.invoiceId,
    });
  });
});
