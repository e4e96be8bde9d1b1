/**
 * The operations API through the local host, as an operator's browser or
 * script calls it: who may read and who may act, the lists by state, paging,
 * bad input, and the audit of every action.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, spawnHost, until, type HostProcess } from '../support/hostProcess';
import { proposalWithActuals } from '../support/builders';
import { postingFor, signedHeaders } from '../support/posting';
import { testEnvironment } from '../support/runtime';
import { proposalListSchema, summarySchema } from '../../shared/contracts/operations';

const KEY = 'ops-test-function-key';
const OPERATOR_KEY = 'ops-test-operator-key-0123456789';
const reader = { 'x-functions-key': KEY };
const operator = { ...reader, 'x-operator-key': OPERATOR_KEY, 'x-operator-name': 'Ana Accountant' };

describe('operations API through the local host: roles, state lists, paging, audit', () => {
  let host: HostProcess;
  const call = async (method: string, path: string, headers: Record<string, string> = reader, body?: unknown) => {
    const res = await fetch(`${host.url}/api/${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json().catch(() => undefined)) as any };
  };
  const importNow = () => call('POST', 'ops/import', operator);

  const waiting = proposalWithActuals({ proposalId: 'OPS-WAIT', lines: 3 });
  const failing = proposalWithActuals({ proposalId: 'OPS-ERR', lines: 2 });
  const ready = [1, 2, 3].map((n) => proposalWithActuals({ proposalId: `OPS-OK${n}`, lines: 2 }));
  const posted = proposalWithActuals({ proposalId: 'OPS-POST', lines: 2 });

  beforeAll(async () => {
    host = await spawnHost(testEnvironment({ LOCAL_FUNCTION_KEY: KEY, OPS_OPERATOR_KEY: OPERATOR_KEY }));
    const deliver = (fn: string, m: unknown) => adminCall(host.url, fn, m, reader);
    await deliver('syncInvoiceProposal', waiting.invoice);
    await deliver('syncActuals', waiting.actuals[0]);
    await deliver('syncInvoiceProposal', failing.invoice);
    // An actual in another currency than its invoice: the proposal goes to Error with the reason.
    for (const a of failing.actuals) await deliver('syncActuals', { ...a, currency: 'EUR' });
    for (const p of [...ready, posted]) {
      await deliver('syncInvoiceProposal', p.invoice);
      for (const a of p.actuals) await deliver('syncActuals', a);
    }
    await until('the lines of the ready proposals', async () => {
      await importNow();
      const r = await call('GET', 'ops/proposals?state=LinesCreated');
      return r.body.items.length === 4;
    });
    const body = JSON.stringify(postingFor(posted.actuals));
    const res = await fetch(`${host.url}/api/invoice-proposals/usmf/OPS-POST/posted`, {
      method: 'POST',
      headers: { ...reader, ...signedHeaders(body) },
      body,
    });
    expect(res.status).toBe(200);
  }, 90_000);
  afterAll(async () => {
    await host?.kill();
  });

  it('answers 401 without the function key on every operations route, reads and actions alike', async () => {
    for (const [method, path] of [
      ['GET', 'ops/summary'],
      ['GET', 'ops/proposals?state=Error'],
      ['GET', 'ops/out-of-sync'],
      ['GET', 'ops/messages?kind=quarantined'],
      ['GET', 'ops/audit'],
      ['POST', 'ops/import'],
      ['POST', 'ops/messages/retry'],
      ['GET', 'ops/flows'],
      ['POST', 'ops/flows/import/pause'],
      ['POST', 'ops/flows/import/resume'],
    ] as const) {
      const r = await call(method, path, {});
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.type).toMatch(/application\/problem\+json/);
    }
  });

  it('lists each proposal under its own state only, with its reason, newest first', async () => {
    const list = async (state: string) => {
      const body = (await call('GET', `ops/proposals?state=${state}`)).body;
      expect(proposalListSchema.safeParse(body).error, 'the answer fits its OpenAPI schema').toBeUndefined();
      return body.items as any[];
    };
    const [awaiting, error, created, postedToday] = await Promise.all([
      list('AwaitingLines'),
      list('Error'),
      list('LinesCreated'),
      list('Posted'),
    ]);
    expect(awaiting.map((p) => p.proposalId)).toEqual(['OPS-WAIT']);
    expect(awaiting[0].reason).toBe('waiting for billed sales actuals: 1 of 3 staged');
    expect(error.map((p) => p.proposalId)).toEqual(['OPS-ERR']);
    expect(error[0].reason).toMatch(/in EUR but the invoice is in USD/);
    expect(created.map((p) => p.proposalId).sort()).toEqual(['OPS-OK1', 'OPS-OK2', 'OPS-OK3']);
    expect(created.map((p) => p.since)).toEqual([...created.map((p) => p.since)].sort().reverse());
    expect(postedToday.map((p) => p.proposalId)).toEqual(['OPS-POST']);
    expect(postedToday[0]).toMatchObject({ status: 'Posted', currency: 'USD', totalAmount: posted.invoice.totalAmount, lineCount: 2 });
  });

  it('counts the states in the summary, with the oldest proposal waiting and the last import', async () => {
    const s = (await call('GET', 'ops/summary')).body;
    expect(summarySchema.safeParse(s).error, 'the answer fits its OpenAPI schema').toBeUndefined();
    expect(s.states).toEqual({ AwaitingLines: 1, Error: 1, LinesCreated: 3, PostedToday: 1 });
    expect(s.oldestWaiting).toMatchObject({ legalEntity: 'usmf', proposalId: 'OPS-WAIT' });
    expect(s.lastImport).toMatchObject({ trigger: 'operator', outcome: 'succeeded' });
    expect(s.queues.map((q: any) => q.queue)).toContain('project-actuals');
  });

  it('pages with tokens and refuses a token of another list or a mangled one, naming pageToken', async () => {
    const first = (await call('GET', 'ops/proposals?state=LinesCreated&pageSize=2')).body;
    expect(first.items).toHaveLength(2);
    const second = (await call('GET', `ops/proposals?state=LinesCreated&pageSize=2&pageToken=${first.nextPageToken}`)).body;
    expect([...first.items, ...second.items].map((p: any) => p.proposalId).sort()).toEqual(['OPS-OK1', 'OPS-OK2', 'OPS-OK3']);
    const other = await call('GET', `ops/proposals?state=Error&pageToken=${first.nextPageToken}`);
    expect(other.status).toBe(400);
    expect(other.body.field).toBe('pageToken');
    expect(other.body.detail).toMatch(/another list|belongs to/);
    const mangled = await call('GET', 'ops/proposals?state=Error&pageToken=not-a-token!');
    expect(mangled.status).toBe(400);
    expect(mangled.body.field).toBe('pageToken');
    const badState = await call('GET', 'ops/proposals?state=Lost');
    expect(badState.status).toBe(400);
    expect(badState.body.field).toBe('state');
    const badSize = await call('GET', 'ops/proposals?state=Error&pageSize=1000');
    expect(badSize.body.field).toBe('pageSize');
  });

  it('refuses actions to a reader (403) and to a forged Entra principal, and audits every refusal', async () => {
    const forged = Buffer.from(
      JSON.stringify({
        claims: [
          { typ: 'roles', val: 'Invoice.Operator' },
          { typ: 'name', val: 'mallory' },
        ],
      }),
    ).toString('base64');
    const attempts = [
      await call('POST', 'ops/import', reader),
      await call('POST', 'ops/messages/retry', reader, { ids: ['0123456789abcdef0123456789abcdef'] }),
      // App Service authentication is off here, so the header is anyone's to send: not trusted.
      await call('POST', 'ops/import', { ...reader, 'x-ms-client-principal': forged }),
      await call('POST', 'ops/import', { ...reader, 'x-operator-key': 'wrong-wrong-wrong-wrong-wrong', 'x-operator-name': 'Eve' }),
      await call('POST', 'ops/import', { ...reader, 'x-operator-key': OPERATOR_KEY }),
    ];
    for (const a of attempts) {
      expect(a.status).toBe(403);
      expect(a.body.type).toMatch(/forbidden$/);
    }
    expect(attempts[4]!.body.field).toBe('x-operator-name');
    const audit = (await call('GET', 'ops/audit?pageSize=20')).body.items as any[];
    const refused = audit.filter((e) => e.outcome === 'refused');
    expect(refused.length).toBeGreaterThanOrEqual(attempts.length);
    expect(refused.map((e) => e.who)).toContain('Eve');
  });

  it('writes an audit row for each action an operator takes, newest first', async () => {
    const before = (await call('GET', 'ops/audit?pageSize=100')).body.items.length;
    expect((await importNow()).status).toBe(200);
    const retried = await call('POST', 'ops/messages/retry', operator, { ids: ['0123456789abcdef0123456789abcdef'] });
    expect(retried.status).toBe(404);
    expect(retried.type).toMatch(/application\/problem\+json/);
    expect(retried.body.field).toBe('ids');
    expect(retried.body.results).toEqual([expect.objectContaining({ id: '0123456789abcdef0123456789abcdef', outcome: 'not-found' })]);
    const audit = (await call('GET', 'ops/audit?pageSize=100')).body.items as any[];
    expect(audit).toHaveLength(before + 2);
    expect(audit[0]).toMatchObject({ who: 'Ana Accountant', via: 'operator-key', action: 'retry', outcome: 'refused' });
    expect(audit[1]).toMatchObject({ who: 'Ana Accountant', action: 'run-import', outcome: 'succeeded' });
    expect(audit.map((e) => e.at)).toEqual([...audit.map((e) => e.at)].sort().reverse());
  });

  it('pauses and resumes a flow for an operator only, refuses what makes no sense with a problem, and audits each', async () => {
    expect((await call('POST', 'ops/flows/import/pause', reader)).status).toBe(403);
    const paused = await call('POST', 'ops/flows/import/pause', operator);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ flow: 'import', paused: true, by: 'Ana Accountant' });
    const again = await call('POST', 'ops/flows/import/pause', operator);
    expect(again.status).toBe(409);
    expect(again.body.type).toMatch(/already-paused$/);
    const run = await importNow();
    expect(run.status).toBe(409);
    expect(run.body.type).toMatch(/flow-paused$/);
    const summary = (await call('GET', 'ops/summary')).body;
    expect(summary.flows.find((f: any) => f.flow === 'import')).toMatchObject({ paused: true, by: 'Ana Accountant' });
    const unknown = await call('POST', 'ops/flows/payroll/pause', operator);
    expect(unknown.status).toBe(404);
    expect(unknown.body.field).toBe('flow');
    expect((await call('POST', 'ops/flows/import/resume', operator)).body).toMatchObject({ flow: 'import', paused: false });
    const notPaused = await call('POST', 'ops/flows/import/resume', operator);
    expect(notPaused.status).toBe(409);
    expect(notPaused.body.type).toMatch(/not-paused$/);
    const audit = (await call('GET', 'ops/audit?pageSize=8')).body.items as any[];
    expect(audit.slice(0, 7).map((e) => `${e.action} ${e.target}: ${e.outcome}`)).toEqual([
      'resume import: refused',
      'resume import: succeeded',
      'pause payroll: refused',
      'run-import import: refused',
      'pause import: refused',
      'pause import: succeeded',
      'pause import: refused',
    ]);
  });
});
