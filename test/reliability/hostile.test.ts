/**
 * Issue 4, part 5: hostile input. A corpus of bad (and strange but valid)
 * messages goes through the real Service Bus function handlers, and a corpus
 * of bad posting callbacks through the real HTTP handler. Every entry names
 * its expected outcome: quarantined with the field named in the reason (and
 * the raw text kept), or accepted and read back intact. None may make a
 * function throw, touch another proposal, or put an id into a table key or
 * filter unescaped.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import getActual from '../../functions/getActual';
import getInvoiceProposal from '../../functions/getInvoiceProposal';
import recordPosting from '../../functions/recordPosting';
import syncActuals from '../../functions/syncActuals';
import syncInvoiceProposal from '../../functions/syncInvoiceProposal';
import type { Actual } from '../../shared/contracts/actual';
import type { ConfirmedInvoice } from '../../shared/contracts/invoiceProposal';
import { MAX_LINES } from '../../shared/contracts/posting';
import { MAX_BODY_BYTES } from '../../shared/http/request';
import { formatMoney, sumMoney } from '../../shared/contracts/money';
import { importFromStaging } from '../../shared/pipeline/importFromStaging';
import { readActual, readProposal } from '../../shared/pipeline/readModels';
import { QUEUES } from '../../shared/queues';
import type { Runtime } from '../../shared/runtime';
import { actual, deliverMessage, httpRequest, invoice, proposalWithActuals, serviceBusContext } from '../support/builders';
import { postingFor, signedHeaders } from '../support/posting';
import { quiet, tableRows } from '../support/reliability';
import { testRuntime } from '../support/runtime';

let rt: Runtime;
let seq = 0;
const uid = (tag: string) => `${tag}-${++seq}`;

/** What a message does: quarantined with the named field first at fault, or accepted and checked. */
type Expectation = { quarantined: string } | { accepted: (rt: Runtime, body: any) => Promise<void> };

interface MessageCase {
  name: string;
  /** The message body exactly as Service Bus hands it to the function: text, or already-parsed JSON. */
  body: () => unknown;
  expect: Expectation;
}

const outcome = (c: { expect: Expectation }) =>
  'quarantined' in c.expect ? `quarantined, names ${c.expect.quarantined}` : 'accepted, reads back intact';

/** A billed sales actual of a proposal of its own (no header: it waits for it, visibly). */
function billed(over: Record<string, unknown> = {}): Record<string, unknown> {
  const id = uid('act');
  return { ...actual({ actualId: id, proposalId: `P-${id}`, invoiceId: `inv-${id}` }), ...over };
}

function header(over: Record<string, unknown> = {}): Record<string, unknown> {
  const id = uid('P');
  return { ...invoice({ proposalId: id, invoiceId: `inv-${id}` }), ...over };
}

const text = (v: unknown) => () => JSON.stringify(v);

/** Accepted: GET /api/actuals answers with the ids and amount exactly as sent. */
const actualReadsBack = async (rt: Runtime, body: Actual) => {
  const view = await readActual(rt, body.legalEntity, body.actualId);
  expect(view, 'the actual can be read back by its own ids').toBeDefined();
  expect(view).toMatchObject({
    actualId: body.actualId,
    legalEntity: body.legalEntity.toLowerCase(),
    amount: body.amount,
    version: body.version,
  });
  if (view!.transactionType === 'BilledSales') {
    expect(view!.proposalId).toBe(body.proposalId);
    expect(view!.status).toBe('Pending');
    expect(view!.reason).toMatch(/waiting for the invoice header/);
  }
};

/** Accepted: GET /api/invoice-proposals answers with the header exactly as sent. */
const proposalReadsBack = async (rt: Runtime, body: ConfirmedInvoice) => {
  const view = await readProposal(rt, body.legalEntity, body.proposalId);
  expect(view).toMatchObject({
    proposalId: body.proposalId,
    legalEntity: body.legalEntity.toLowerCase(),
    invoiceId: body.invoiceId,
    detailAmount: body.detailAmount,
    description: body.description ?? null,
    correctsProposalId: body.correctsProposalId ?? null,
  });
};

const STRANGE = `/\\#?'"%&+|~_ <>{}[]\`é漢🙂\u200b\u202e`;
const KB = 1024;

const actualCases: MessageCase[] = [
  // not JSON, not an object
  { name: 'invalid JSON', body: () => '{"actualId": "x", ', expect: { quarantined: 'body' } },
  { name: 'empty body', body: () => '', expect: { quarantined: 'body' } },
  { name: 'a JSON number', body: () => '42', expect: { quarantined: 'body' } },
  { name: 'JSON null', body: () => 'null', expect: { quarantined: 'body' } },
  { name: 'a JSON array', body: text([billed()]), expect: { quarantined: 'body' } },
  // wrong types, missing fields
  { name: 'amount as a number', body: text(billed({ amount: 100 })), expect: { quarantined: 'amount' } },
  { name: 'version as a string', body: text(billed({ version: '1' })), expect: { quarantined: 'version' } },
  { name: 'actualId as a number', body: text(billed({ actualId: 123 })), expect: { quarantined: 'actualId' } },
  { name: 'actualId missing', body: text(billed({ actualId: undefined })), expect: { quarantined: 'actualId' } },
  { name: 'billed sales without proposalId', body: text(billed({ proposalId: undefined })), expect: { quarantined: 'proposalId' } },
  { name: 'billed sales without invoiceId', body: text(billed({ invoiceId: undefined })), expect: { quarantined: 'invoiceId' } },
  { name: 'documentDate missing', body: text(billed({ documentDate: undefined })), expect: { quarantined: 'documentDate' } },
  { name: 'actualId null', body: text(billed({ actualId: null })), expect: { quarantined: 'actualId' } },
  // sizes
  { name: 'actualId of 101 characters', body: text(billed({ actualId: 'a'.repeat(101) })), expect: { quarantined: 'actualId' } },
  { name: 'projectId of 1 MB', body: text(billed({ projectId: 'p'.repeat(1024 * KB) })), expect: { quarantined: 'projectId' } },
  { name: 'legalEntity of 5 characters', body: text(billed({ legalEntity: 'usmfx' })), expect: { quarantined: 'legalEntity' } },
  {
    name: 'a 300 KB body: valid actual plus an unknown 300 KB field (ignored, not stored)',
    body: text(billed({ notes: 'n'.repeat(300 * KB) })),
    expect: {
      accepted: async (rt, body) => {
        await actualReadsBack(rt, body);
        expect(JSON.stringify((await rt.register.get(body.actualId))!.value.actual)).not.toContain('nnnn');
      },
    },
  },
  {
    name: 'a 300 KB body that is not JSON (kept raw, whole)',
    body: () => `{"actualId": "big", "x": "${'x'.repeat(300 * KB)}`,
    expect: { quarantined: 'body' },
  },
  // An emoji exactly where the kept raw text is cut into 30,000-character properties. (Kept under 64 KB: Azurite
  // itself decodes each 64 KB piece of a request body separately and so breaks multi-byte characters that
  // straddle two pieces, whatever the product does.)
  {
    name: 'an emoji straddling two stored chunks of the raw text, not JSON',
    body: () => `{${'x'.repeat(29_998)}🙂${'y'.repeat(1000)}`,
    expect: { quarantined: 'body' },
  },
  // money
  {
    name: 'negative amount (a credit line) is accepted',
    body: text(billed({ amount: '-125.50', price: '-125.50', quantity: '1' })),
    expect: { accepted: actualReadsBack },
  },
  { name: '-0.00 is accepted', body: text(billed({ amount: '-0.00' })), expect: { accepted: actualReadsBack } },
  {
    name: '15-digit amount with 6 decimals is accepted',
    body: text(billed({ amount: '999999999999999.999999' })),
    expect: { accepted: actualReadsBack },
  },
  { name: '30-digit amount', body: text(billed({ amount: '123456789012345678901234567890' })), expect: { quarantined: 'amount' } },
  { name: '7 decimals', body: text(billed({ amount: '1.0000001' })), expect: { quarantined: 'amount' } },
  ...['1e3', '1,000.00', ' 1.00', '+1.00', '.5', '1.', '0x10', 'NaN', 'Infinity', '١٢٣', '00.5', '--1'].map((amount) => ({
    name: `amount ${JSON.stringify(amount)}`,
    body: text(billed({ amount })),
    expect: { quarantined: 'amount' },
  })),
  { name: 'price 30 digits', body: text(billed({ price: '9'.repeat(30) })), expect: { quarantined: 'price' } },
  // dates
  ...['2026-02-30', '2026-13-01', '20261101', '2026-11-01T00:00:00Z', '11/01/2026', '2026-1-1', ''].map((documentDate) => ({
    name: `documentDate ${JSON.stringify(documentDate)}`,
    body: text(billed({ documentDate })),
    expect: { quarantined: 'documentDate' },
  })),
  // prototype keys
  {
    name: '__proto__ key with an amount inside (ignored, no pollution)',
    body: () => `{"__proto__": {"amount": "999.00", "polluted": true}, ${JSON.stringify(billed()).slice(1)}`,
    expect: {
      accepted: async (rt, body) => {
        await actualReadsBack(rt, body);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect((await rt.register.get(body.actualId))!.value.actual.amount).toBe('100.00');
      },
    },
  },
  {
    name: 'constructor.prototype key (ignored, no pollution)',
    body: text({ constructor: { prototype: { polluted: true } }, ...billed() }),
    expect: {
      accepted: async (rt, body) => (await actualReadsBack(rt, body), expect(({} as Record<string, unknown>).polluted).toBeUndefined()),
    },
  },
  {
    name: 'already-parsed body with an own __proto__ property (as a host may hand it over)',
    body: () => JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(billed()).slice(1)}`),
    expect: {
      accepted: async (rt, body) => (await actualReadsBack(rt, body), expect(({} as Record<string, unknown>).polluted).toBeUndefined()),
    },
  },
  { name: 'actualId "__proto__"', body: text(billed({ actualId: '__proto__' })), expect: { accepted: actualReadsBack } },
  {
    name: 'actualId "constructor", proposalId "hasOwnProperty"',
    body: text(billed({ actualId: 'constructor', proposalId: 'hasOwnProperty' })),
    expect: { accepted: actualReadsBack },
  },
  // control characters, in every id
  ...(
    [
      'actualId',
      'legalEntity',
      'proposalId',
      'invoiceId',
      'projectId',
      'contractId',
      'customerAccount',
      'taskId',
      'resourceId',
      'unit',
    ] as const
  ).flatMap((field) =>
    ['\u0000', '\n', '\u001f', '\u007f', '\u0085'].map((c) => ({
      name: `control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')} in ${field}`,
      body: text(billed({ [field]: field === 'legalEntity' ? `u${c}` : `x${c}y` })),
      expect: { quarantined: field },
    })),
  ),
  // `/ \ # ? '` and other strange characters in every id: accepted, and they never reach a key
  {
    name: `/ \\ # ? ' and friends in every id`,
    body: text(
      billed({
        actualId: `A${STRANGE}1`,
        proposalId: `P/\\#?'${seq}`,
        invoiceId: `I${STRANGE}`,
        projectId: STRANGE,
        contractId: STRANGE,
        customerAccount: STRANGE,
        taskId: STRANGE,
        unit: STRANGE,
      }),
    ),
    expect: { accepted: actualReadsBack },
  },
  { name: `legal entity "/#?'"`, body: text(billed({ legalEntity: `/#?'` })), expect: { accepted: actualReadsBack } },
  { name: 'legal entity "ÜSMF" (lower-cased)', body: text(billed({ legalEntity: 'ÜSMF' })), expect: { accepted: actualReadsBack } },
  {
    name: 'actualId of 100 slashes (the longest encoded key)',
    body: text(billed({ actualId: '/'.repeat(100), proposalId: '#'.repeat(20), legalEntity: '????' })),
    expect: { accepted: actualReadsBack },
  },
  {
    name: 'actualId of 100 emoji halves and CJK',
    body: text(billed({ actualId: '漢🙂'.repeat(33) + '字' })),
    expect: { accepted: actualReadsBack },
  },
  {
    name: 'actualId with a lone surrogate',
    body: text(billed({ actualId: 'lone\ud800surrogate' })),
    expect: { accepted: actualReadsBack },
  },
  // OData injection
  { name: `actualId "' or true or '"`, body: text(billed({ actualId: `' or true or '` })), expect: { accepted: actualReadsBack } },
  { name: `proposalId "' or 1 eq 1 or '"`, body: text(billed({ proposalId: `' or 1 eq 1 or '` })), expect: { accepted: actualReadsBack } },
  {
    name: `actualId "x') or (PartitionKey ne '"`,
    body: text(billed({ actualId: `x') or (PartitionKey ne '` })),
    expect: { accepted: actualReadsBack },
  },
  // enums and option-set codes
  { name: 'transactionType "Billed"', body: text(billed({ transactionType: 'Billed' })), expect: { quarantined: 'transactionType' } },
  {
    name: 'transactionClassification "time" (wrong case)',
    body: text(billed({ transactionClassification: 'time' })),
    expect: { quarantined: 'transactionClassification' },
  },
  { name: 'billingType ""', body: text(billed({ billingType: '' })), expect: { quarantined: 'billingType' } },
  ...[192350001, 192350003, 0, -1, 1.5, 192350006.5, '192350006 ', '0x0B7A7F56', 1e21].map((code) => ({
    name: `transactionType option-set code ${JSON.stringify(code)} that does not exist`,
    body: text(billed({ transactionType: code })),
    expect: { quarantined: 'transactionType' },
  })),
  {
    name: 'transactionClassification code 690970003 that does not exist',
    body: text(billed({ transactionClassification: 690970003 })),
    expect: { quarantined: 'transactionClassification' },
  },
  {
    name: 'billingType code 192350004 that does not exist',
    body: text(billed({ billingType: 192350004 })),
    expect: { quarantined: 'billingType' },
  },
  {
    name: 'option-set codes that exist (number and numeric string) are read as names',
    body: text(billed({ transactionType: 192350006, transactionClassification: '690970002', billingType: 192350001 })),
    expect: {
      accepted: async (rt, body) => {
        const stored = (await rt.register.get(body.actualId))!.value.actual;
        expect(stored).toMatchObject({ transactionType: 'BilledSales', transactionClassification: 'Tax', billingType: 'Chargeable' });
      },
    },
  },
  {
    name: 'a Cost actual without proposal ids is accepted, not for invoice',
    body: text(billed({ transactionType: 'Cost', proposalId: undefined, invoiceId: undefined })),
    expect: { accepted: async (rt, body) => expect((await readActual(rt, body.legalEntity, body.actualId))!.status).toBe('NotForInvoice') },
  },
  // versions, currencies
  ...[-1, 1.5, '1', Number.MAX_SAFE_INTEGER + 2, null].map((version) => ({
    name: `version ${JSON.stringify(version)}`,
    body: text(billed({ version })),
    expect: { quarantined: 'version' },
  })),
  { name: 'version 2^53-1 is accepted', body: text(billed({ version: Number.MAX_SAFE_INTEGER })), expect: { accepted: actualReadsBack } },
  ...['usd', 'US', 'EURO', '€'].map((currency) => ({
    name: `currency ${JSON.stringify(currency)}`,
    body: text(billed({ currency })),
    expect: { quarantined: 'currency' },
  })),
];

const headerCases: MessageCase[] = [
  { name: 'status "Draft"', body: text(header({ status: 'Draft' })), expect: { quarantined: 'status' } },
  {
    name: 'totalAmount is not detailAmount + totalTax',
    body: text(header({ detailAmount: '10.00', totalTax: '1.00', totalAmount: '11.01' })),
    expect: { quarantined: 'totalAmount' },
  },
  ...[-1, 0, 1.5, MAX_LINES + 1, 100_001, '3'].map((transactionCount) => ({
    name: `transactionCount ${JSON.stringify(transactionCount)}`,
    body: text(header({ transactionCount })),
    expect: { quarantined: 'transactionCount' },
  })),
  { name: 'description of 1001 characters', body: text(header({ description: 'd'.repeat(1001) })), expect: { quarantined: 'description' } },
  {
    name: 'description of 500 emoji, control characters and quotes is kept exactly',
    body: text(header({ description: `${'🙂'.repeat(490)}\u0000\n\t"'\\` })),
    expect: { accepted: proposalReadsBack },
  },
  { name: 'proposalId of 21 characters', body: text(header({ proposalId: 'P'.repeat(21) })), expect: { quarantined: 'proposalId' } },
  { name: 'invoiceDate "2026-11-31"', body: text(header({ invoiceDate: '2026-11-31' })), expect: { quarantined: 'invoiceDate' } },
  { name: 'detailAmount of 30 digits', body: text(header({ detailAmount: '1'.repeat(30) })), expect: { quarantined: 'detailAmount' } },
  {
    name: 'a corrective invoice with negative totals is accepted',
    body: text(header({ detailAmount: '-250.00', totalTax: '-12.50', totalAmount: '-262.50', correctsProposalId: `P/#?'1` })),
    expect: { accepted: proposalReadsBack },
  },
  {
    name: `proposalId "' or true or '" is accepted`,
    body: text(header({ proposalId: `' or true or '` })),
    expect: { accepted: proposalReadsBack },
  },
  {
    name: `strange characters in every header id`,
    body: text(header({ proposalId: `H/\\#?'%${seq}`, invoiceId: STRANGE, contractId: STRANGE, customerAccount: STRANGE })),
    expect: { accepted: proposalReadsBack },
  },
  { name: 'a 400 KB header that is not JSON', body: () => `{"proposalId": "${'p'.repeat(400 * KB)}"`, expect: { quarantined: 'body' } },
  {
    name: 'a 600 KB header that is not JSON (raw kept up to 450,000 characters, with the hash of all of it)',
    body: () => `[${'"x",'.repeat(150 * KB)}`,
    expect: { quarantined: 'body' },
  },
];

/** The neighbour: a proposal with its lines, which nothing in the corpus may touch. */
const neighbour = proposalWithActuals({ proposalId: 'NEIGHBOUR-1', lines: 3 });
let neighbourRows: unknown;
const neighbourState = async () => ({
  view: await readProposal(rt, 'usmf', 'NEIGHBOUR-1'),
  rows: (await tableRows(rt, 'proposals')).filter((r) => r.partitionKey === 'usmf|NEIGHBOUR-1'),
});

/** An HTTP function as the host calls it: with the request and an invocation context. */
const get = (handler: (request: HttpRequest) => unknown, request: HttpRequest) => (handler as HttpHandler)(request, serviceBusContext());

async function deliverCase(c: MessageCase, queue: 'actuals' | 'proposals') {
  const fn = queue === 'actuals' ? syncActuals : syncInvoiceProposal;
  const source = queue === 'actuals' ? QUEUES.actuals : QUEUES.proposals;
  const messageId = uid('hostile');
  const body = c.body();
  // A hostile message must never make the function throw: that would be a retry storm, then a dead letter.
  await expect(deliverMessage(fn, body, messageId)).resolves.toBeUndefined();
  const kept = (await rt.quarantine.list(source)).filter((q) => q.messageId === messageId);
  if ('quarantined' in c.expect) {
    expect(kept, 'kept in quarantine, once').toHaveLength(1);
    const q = kept[0]!;
    const fields = q.reason.split('; ').map((part) => part.slice(0, part.indexOf(':')));
    expect(fields, `the reason names ${c.expect.quarantined}: ${q.reason.slice(0, 300)}`).toContain(c.expect.quarantined);
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    expect(q.rawSha256).toBe(createHash('sha256').update(raw).digest('hex'));
    if (raw.length <= 450_000) {
      expect(q.rawTruncated).toBe(false);
      expect(q.raw === raw, 'the raw text is kept exactly').toBe(true);
    } else {
      expect(q.rawTruncated).toBe(true);
      expect(q.raw === raw.slice(0, 450_000), 'the first 450,000 characters are kept exactly').toBe(true);
    }
  } else {
    expect(
      kept.map((q) => q.reason),
      'not quarantined',
    ).toEqual([]);
    const parsed = typeof body === 'string' ? JSON.parse(body) : body;
    await c.expect.accepted(rt, parsed);
  }
}

describe('hostile input: messages', () => {
  beforeAll(async () => {
    rt = await testRuntime();
    for (const m of [neighbour.invoice, ...neighbour.actuals]) {
      await deliverMessage('actualId' in m ? syncActuals : syncInvoiceProposal, JSON.stringify(m));
    }
    await importFromStaging(rt, quiet);
    neighbourRows = await neighbourState();
    expect((neighbourRows as Awaited<ReturnType<typeof neighbourState>>).view!.lines).toHaveLength(3);
  });

  // The named table: [name, expected outcome, case].
  it.each(actualCases.map((c) => [c.name, outcome(c), c] as const))('actual: %s → %s', async (_name, _outcome, c) => {
    await deliverCase(c, 'actuals');
  });

  it.each(headerCases.map((c) => [c.name, outcome(c), c] as const))('header: %s → %s', async (_name, _outcome, c) => {
    await deliverCase(c, 'proposals');
  });

  it('every expectation is named in the corpus', () => {
    for (const c of [...actualCases, ...headerCases]) expect(outcome(c)).toMatch(/quarantined, names \w+|accepted/);
    expect(actualCases.length + headerCases.length).toBeGreaterThan(100);
  });

  it('an import over everything accepted runs clean, and the neighbour proposal is untouched', async () => {
    const summary = await importFromStaging(rt, quiet);
    expect(summary.proposals).toBeGreaterThan(0);
    expect(await neighbourState()).toEqual(neighbourRows);
  });

  it('a proposal whose ids are all strange characters gets its lines, and reads back through GET', async () => {
    const p = proposalWithActuals({ proposalId: `Z/\\#?'%`, lines: 2, legalEntity: `#?'/` });
    const odd = (a: Actual, i: number): Actual => ({ ...a, actualId: `${STRANGE}${i}`, projectId: STRANGE });
    const actuals = p.actuals.map(odd);
    for (const m of [p.invoice, ...actuals]) await deliverMessage('actualId' in m ? syncActuals : syncInvoiceProposal, JSON.stringify(m));
    await importFromStaging(rt, quiet);
    const res = (await get(
      getInvoiceProposal.handler,
      httpRequest({ method: 'GET', url: 'http://x', params: { legalEntity: `#?'/`, proposalId: `Z/\\#?'%` } }),
    )) as HttpResponseInit;
    expect(res.status).toBe(200);
    expect((res.jsonBody as any).status).toBe('LinesCreated');
    expect((res.jsonBody as any).lines.map((l: any) => l.actualId).sort()).toEqual(actuals.map((a) => a.actualId).sort());
    for (const a of actuals) {
      const r = (await get(
        getActual.handler,
        httpRequest({ method: 'GET', url: 'http://x', params: { legalEntity: a.legalEntity, actualId: a.actualId } }),
      )) as HttpResponseInit;
      expect(r.status).toBe(200);
      expect(r.jsonBody).toMatchObject({ actualId: a.actualId, legalEntity: `#?'/`, proposalId: `Z/\\#?'%`, status: 'Processed' });
    }
    // An injection attempt in a GET finds nothing (404), rather than someone else's data.
    const miss = (await get(
      getActual.handler,
      httpRequest({ method: 'GET', url: 'http://x', params: { legalEntity: 'usmf', actualId: `' or true or 'x` } }),
    )) as HttpResponseInit;
    expect(miss.status).toBe(404);
    expect(await neighbourState()).toEqual(neighbourRows);
  });

  it('no id ever reached a table key unescaped: every key of every table is [A-Za-z0-9._|~-] only', async () => {
    const bad: string[] = [];
    for (const table of ['proposals', 'staging', 'actuals', 'quarantine', 'outbox', 'webhookReceipts'] as const) {
      for (const r of await tableRows(rt, table)) {
        for (const key of [r.partitionKey, r.rowKey])
          if (!/^[A-Za-z0-9._|~-]*$/.test(key) || key.length > 512) bad.push(`${table}: ${key.slice(0, 80)}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

/* ------------------------------------------------------------------ HTTP: the posting callback */

interface HttpCase {
  name: string;
  /** Route parameters (defaults: the postable proposal). */
  params?: Record<string, string>;
  /** Raw body text (signed as is, unless headers say otherwise). */
  body: () => string;
  headers?: (body: string) => Record<string, string>;
  status: number;
  field: string;
}

const postable = proposalWithActuals({ proposalId: 'POST-ME', lines: 2 });
const good = () => postingFor(postable.actuals);
const withLines = (lines: unknown) => JSON.stringify({ ...good(), lines });
const line0 = () => good().lines[0]!;

const httpCases: HttpCase[] = [
  { name: 'invalid JSON', body: () => '{"voucher": ', status: 400, field: 'body' },
  { name: 'a JSON array', body: () => '[]', status: 400, field: 'body' },
  { name: 'exchangeRate as a number', body: () => JSON.stringify({ ...good(), exchangeRate: 1 }), status: 400, field: 'exchangeRate' },
  { name: 'exchangeRate "0"', body: () => JSON.stringify({ ...good(), exchangeRate: '0' }), status: 400, field: 'exchangeRate' },
  { name: 'exchangeRate "-1"', body: () => JSON.stringify({ ...good(), exchangeRate: '-1' }), status: 400, field: 'exchangeRate' },
  { name: 'lines missing', body: () => JSON.stringify({ ...good(), lines: undefined }), status: 400, field: 'lines' },
  { name: 'lines empty', body: () => withLines([]), status: 400, field: 'lines' },
  {
    name: 'accountingAmount "1e3"',
    body: () => withLines([{ ...line0(), accountingAmount: '1e3' }]),
    status: 400,
    field: 'lines.0.accountingAmount',
  },
  {
    name: 'accountingAmount of 30 digits',
    body: () => withLines([{ ...line0(), accountingAmount: '9'.repeat(30) }]),
    status: 400,
    field: 'lines.0.accountingAmount',
  },
  { name: 'the same actual twice', body: () => withLines([line0(), line0()]), status: 400, field: 'lines.1.actualId' },
  {
    name: 'accountingDate "2026-02-30"',
    body: () => JSON.stringify({ ...good(), accountingDate: '2026-02-30' }),
    status: 400,
    field: 'accountingDate',
  },
  {
    name: 'customerInvoiceId of 51 characters',
    body: () => JSON.stringify({ ...good(), customerInvoiceId: 'C'.repeat(51) }),
    status: 400,
    field: 'customerInvoiceId',
  },
  {
    name: 'voucher with a control character',
    body: () => JSON.stringify({ ...good(), voucher: 'VOU\u0000-1' }),
    status: 400,
    field: 'voucher',
  },
  {
    name: 'accountingCurrency "usd"',
    body: () => JSON.stringify({ ...good(), accountingCurrency: 'usd' }),
    status: 400,
    field: 'accountingCurrency',
  },
  {
    name: `${MAX_LINES + 1} lines`,
    body: () => withLines(Array.from({ length: MAX_LINES + 1 }, (_, i) => ({ ...line0(), actualId: `x${i}` }))),
    status: 400,
    field: 'lines',
  },
  {
    name: 'a 300 KB body (a 300 KB customerInvoiceId)',
    body: () => JSON.stringify({ ...good(), customerInvoiceId: 'C'.repeat(300 * KB) }),
    status: 400,
    field: 'customerInvoiceId',
  },
  {
    name: `a body over ${MAX_BODY_BYTES / KB / KB} MiB`,
    body: () => JSON.stringify({ ...good(), padding: 'x'.repeat(MAX_BODY_BYTES + 100 * KB) }),
    status: 413,
    field: 'body',
  },
  {
    name: 'an actual that is not a line of the proposal',
    body: () => withLines([...good().lines, { ...line0(), actualId: `' or true or '` }]),
    status: 422,
    field: 'lines',
  },
  {
    name: 'not JSON content type',
    body: () => JSON.stringify(good()),
    headers: (b) => ({ ...signedHeaders(b), 'content-type': 'text/plain' }),
    status: 415,
    field: 'content-type',
  },
  {
    name: 'unsigned',
    body: () => JSON.stringify(good()),
    headers: () => ({ 'content-type': 'application/json' }),
    status: 401,
    field: 'webhook-id',
  },
  {
    name: 'signed with another secret',
    body: () => JSON.stringify(good()),
    headers: (b) => signedHeaders(b, { secret: `whsec_${Buffer.from('another-secret-of-32-bytes-long!').toString('base64')}` }),
    status: 401,
    field: 'webhook-signature',
  },
  {
    name: 'signed an hour ago',
    body: () => JSON.stringify(good()),
    headers: (b) => signedHeaders(b, { at: new Date(Date.now() - 3600_000) }),
    status: 401,
    field: 'webhook-timestamp',
  },
  {
    name: 'signature over another body',
    body: () => JSON.stringify(good()),
    headers: () => signedHeaders('{}'),
    status: 401,
    field: 'webhook-signature',
  },
  {
    name: 'proposalId of 21 characters in the route',
    params: { legalEntity: 'usmf', proposalId: 'P'.repeat(21) },
    body: () => JSON.stringify(good()),
    status: 400,
    field: 'proposalId',
  },
  {
    name: 'legalEntity of 5 characters in the route',
    params: { legalEntity: 'usmfx', proposalId: 'POST-ME' },
    body: () => JSON.stringify(good()),
    status: 400,
    field: 'legalEntity',
  },
  {
    name: 'a control character in the route',
    params: { legalEntity: 'usmf', proposalId: 'POST\u0000ME' },
    body: () => JSON.stringify(good()),
    status: 400,
    field: 'proposalId',
  },
  {
    name: `OData injection in the route finds no proposal`,
    params: { legalEntity: 'usmf', proposalId: `' or true or '` },
    body: () => JSON.stringify(good()),
    status: 404,
    field: '',
  },
  {
    name: 'a webhook-id of 600 strange characters',
    body: () => JSON.stringify({ ...good(), lines: [line0()] }),
    headers: (b) => signedHeaders(b, { id: `msg_${'/#?'.repeat(200)}` }),
    status: 422,
    field: 'lines',
  },
];

async function post(c: Pick<HttpCase, 'params' | 'body' | 'headers'>) {
  const body = c.body();
  const res = (await recordPosting.handler(
    httpRequest({
      method: 'POST',
      url: 'http://x',
      params: c.params ?? { legalEntity: 'usmf', proposalId: 'POST-ME' },
      headers: (c.headers ?? signedHeaders)(body),
      body,
    }),
    serviceBusContext(),
  )) as HttpResponseInit;
  return { status: res.status ?? 200, body: res.jsonBody as any, headers: (res.headers ?? {}) as Record<string, string> };
}

describe('hostile input: posting callbacks', () => {
  beforeAll(async () => {
    rt = await testRuntime();
    for (const m of [postable.invoice, ...postable.actuals])
      await deliverMessage('actualId' in m ? syncActuals : syncInvoiceProposal, JSON.stringify(m));
    await importFromStaging(rt, quiet);
  });

  it.each(httpCases.map((c) => [c.name, c.status, c.field || '(no field)', c] as const))(
    'POST %s → %i naming %s',
    async (_name, _status, _field, c) => {
      const res = await post(c);
      expect(res.status, JSON.stringify(res.body)).toBe(c.status);
      expect(res.headers['content-type']).toBe('application/problem+json');
      if (c.field) {
        expect(res.body.field).toBe(c.field);
        expect(res.body.detail.startsWith(`${c.field}:`) || res.body.detail.includes(c.field), res.body.detail).toBe(true);
      }
      // Nothing was posted by a refused callback.
      expect((await readProposal(rt, 'usmf', 'POST-ME'))!.status).toBe('LinesCreated');
    },
  );

  it('after all of them, a proper posting with a __proto__ key and an extra field still posts, and a repeat answers the same', async () => {
    const body = `{"__proto__": {"voucher": "EVIL"}, "extra": "ignored", ${JSON.stringify(good()).slice(1)}`;
    const first = await post({ body: () => body });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ status: 'Posted', voucher: 'VOU-000555' });
    const again = await post({ body: () => body });
    expect(again).toMatchObject({ status: 200, body: first.body });
    const view = (await readProposal(rt, 'usmf', 'POST-ME'))!;
    expect(view.posting).toMatchObject({ voucher: 'VOU-000555' });
    expect(formatMoney(sumMoney(view.lines.map((l) => l.amount)))).toBe(postable.invoice.detailAmount);
  });
});
