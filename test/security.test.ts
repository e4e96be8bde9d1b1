import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import recordPosting from '../functions/recordPosting';
import { checkPostingSecrets, readSettings } from '../shared/config';
import { PROBLEM_BASE } from '../shared/http/problem';
import { MAX_BODY_BYTES } from '../shared/http/request';
import { createRuntime, useRuntime } from '../shared/runtime';
import { httpRequest, proposalWithActuals, serviceBusContext } from './support/builders';
import { adminCall, spawnHost, until, type HostProcess } from './support/hostProcess';
import { postingFor, signedHeaders } from './support/posting';
import { TEST_WEBHOOK_SECRET, testEnvironment } from './support/runtime';

const NEXT_SECRET = `whsec_${Buffer.from('the-rotated-in-signing-secret!!!').toString('base64')}`;
const UNKNOWN_SECRET = `whsec_${Buffer.from('somebody-elses-signing-secret!!!').toString('base64')}`;

type Reply = { status: number; type: string | null; body: any };
const sentSignatures: string[] = [];

describe('posting callbacks over HTTP: only Finance can post, once', () => {
  let host: HostProcess;
  const p = proposalWithActuals({ proposalId: 'SEC-1', lines: 2 });
  const body = JSON.stringify(postingFor(p.actuals));
  const url = () => `${host.url}/api/invoice-proposals/usmf/SEC-1/posted`;
  const send = async (payload: string, headers: Record<string, string>): Promise<Reply> => {
    if (headers['webhook-signature']) sentSignatures.push(headers['webhook-signature']);
    const res = await fetch(url(), { method: 'POST', headers, body: payload });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.json().catch(() => undefined) };
  };
  const problems: Reply[] = [];
  const expectProblem = (r: Reply, status: number, field?: string) => {
    problems.push(r);
    expect(r.status).toBe(status);
    if (field) expect(r.body.field).toBe(field);
  };

  beforeAll(async () => {
    // Two secrets at once: the current one and the one being rotated in.
    host = await spawnHost(testEnvironment({ POSTING_WEBHOOK_SECRET: `${TEST_WEBHOOK_SECRET} ${NEXT_SECRET}` }));
    await adminCall(host.url, 'syncInvoiceProposal', p.invoice);
    for (const a of p.actuals) await adminCall(host.url, 'syncActuals', a);
    await until('the lines', async () => {
      await adminCall(host.url, 'importFromStaging', '');
      const r = (await (await fetch(`${host.url}/api/invoice-proposals/usmf/SEC-1`)).json()) as any;
      return r.status === 'LinesCreated';
    });
  });
  afterAll(async () => {
    await host?.kill();
  });

  it('refuses a tampered body, a wrong secret and each missing header with 401', async () => {
    const headers = signedHeaders(body);
    expectProblem(await send(body.replace('VOU-000555', 'VOU-999999'), headers), 401, 'webhook-signature');
    expectProblem(await send(body, signedHeaders(body, { secret: UNKNOWN_SECRET })), 401, 'webhook-signature');
    for (const missing of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const { [missing]: _gone, ...rest } = signedHeaders(body);
      expectProblem(await send(body, rest), 401, missing);
    }
  });

  it('refuses a timestamp 6 minutes old or 6 minutes in the future with 401', async () => {
    expectProblem(await send(body, signedHeaders(body, { at: new Date(Date.now() - 6 * 60_000) })), 401, 'webhook-timestamp');
    expectProblem(await send(body, signedHeaders(body, { at: new Date(Date.now() + 6 * 60_000) })), 401, 'webhook-timestamp');
  });

  it('accepts a valid signature, and one made with the rotated-in secret', async () => {
    const first = await send(body, signedHeaders(body));
    expect(first).toMatchObject({ status: 200, body: { status: 'Posted', voucher: 'VOU-000555', lineCount: 2 } });
    const rotated = await send(body, signedHeaders(body, { secret: NEXT_SECRET }));
    expect(rotated).toMatchObject({ status: 200, body: first.body });
  });

  it('answers a replayed webhook-id with the stored first answer and never applies it again', async () => {
    const other = proposalWithActuals({ proposalId: 'SEC-2', lines: 1 });
    await adminCall(host.url, 'syncInvoiceProposal', other.invoice);
    await adminCall(host.url, 'syncActuals', other.actuals[0]);
    await until('the lines', async () => {
      await adminCall(host.url, 'importFromStaging', '');
      return ((await (await fetch(`${host.url}/api/invoice-proposals/usmf/SEC-2`)).json()) as any).status === 'LinesCreated';
    });
    const payload = JSON.stringify(postingFor(other.actuals, { voucher: 'VOU-REPLAY' }));
    const headers = signedHeaders(payload);
    const post = async () => {
      const res = await fetch(`${host.url}/api/invoice-proposals/usmf/SEC-2/posted`, { method: 'POST', headers, body: payload });
      return { status: res.status, body: await res.json() };
    };
    const first = await post();
    expect(first.status).toBe(200);
    const replay = await post();
    expect(replay).toEqual(first);
    expect(host.output()).toContain(`posting callback ${headers['webhook-id']} already applied; answering as the first time`);
    const outbound = (await (await fetch(`${host.url}/admin/local/outbound`)).json()) as any[];
    expect(outbound.filter((m) => m.body.voucher === 'VOU-REPLAY')).toHaveLength(1);
  });

  it('answers 413 over the body limit, 415 for a non-JSON body and 405 for a proposal delete', async () => {
    const huge = JSON.stringify({ ...postingFor(p.actuals), padding: 'x'.repeat(MAX_BODY_BYTES) });
    expectProblem(await send(huge, signedHeaders(huge)), 413, 'body');
    expectProblem(await send('voucher=1', { ...signedHeaders('voucher=1'), 'content-type': 'text/plain' }), 415, 'content-type');
    const del = await fetch(`${host.url}/api/invoice-proposals/usmf/SEC-1`, { method: 'DELETE' });
    expectProblem({ status: del.status, type: del.headers.get('content-type'), body: await del.json() }, 405);
    expectProblem(await send('{"lines": 3}', signedHeaders('{"lines": 3}')), 400, 'customerInvoiceId');
    const badRoute = await fetch(`${host.url}/api/invoice-proposals/${encodeURIComponent('waytoolong')}/SEC-1/posted`, {
      method: 'POST',
      headers: signedHeaders(body),
      body,
    });
    expectProblem({ status: badRoute.status, type: badRoute.headers.get('content-type'), body: await badRoute.json() }, 400, 'legalEntity');
  });

  it('gives every error the problem+json shape, with no secret, signature or stack trace anywhere', () => {
    expect(problems.length).toBeGreaterThanOrEqual(12);
    for (const r of problems) {
      expect(r.type).toBe('application/problem+json');
      expect(r.body).toMatchObject({
        type: expect.stringContaining(PROBLEM_BASE),
        title: expect.any(String),
        status: r.status,
        detail: expect.any(String),
      });
    }
    const everything = JSON.stringify(problems) + host.output();
    for (const secret of [TEST_WEBHOOK_SECRET, NEXT_SECRET, TEST_WEBHOOK_SECRET.slice(6), NEXT_SECRET.slice(6), ...sentSignatures]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack frames
  });
});

describe('the signature is checked before any storage access', () => {
  it('an unsigned request causes no table operation (a signed one does, so the count is real)', async () => {
    let requests = 0;
    const counter: PipelinePolicy = { name: 'count', sendRequest: (req, next) => (requests++, next(req)) };
    const env = testEnvironment();
    Object.assign(process.env, env);
    const rt = await createRuntime(readSettings(env), { storage: { additionalPolicies: [{ policy: counter, position: 'perCall' }] } });
    useRuntime(rt);
    const body = JSON.stringify(postingFor([{ actualId: 'x', amount: '1.00' }]));
    const params = { legalEntity: 'usmf', proposalId: 'P-1' };
    requests = 0;
    const unsigned = await recordPosting.handler(
      httpRequest({ method: 'POST', url: 'http://x', params, body, headers: { 'content-type': 'application/json' } }),
      serviceBusContext(),
    );
    expect(unsigned).toMatchObject({ status: 401 });
    expect(requests).toBe(0);
    const forged = await recordPosting.handler(
      httpRequest({ method: 'POST', url: 'http://x', params, body, headers: signedHeaders(body, { secret: UNKNOWN_SECRET }) }),
      serviceBusContext(),
    );
    expect(forged).toMatchObject({ status: 401 });
    expect(requests).toBe(0);
    const signed = await recordPosting.handler(
      httpRequest({ method: 'POST', url: 'http://x', params, body, headers: signedHeaders(body) }),
      serviceBusContext(),
    );
    expect(signed).toMatchObject({ status: 404 });
    expect(requests).toBeGreaterThan(0);
  });
});

describe('signing secret configuration: a bad secret fails the posting callback alone', () => {
  const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
  it('refuses a missing secret outside Development, naming the setting; the host starts and answers the callback 503', async () => {
    expect(checkPostingSecrets(readSettings({ ...base, AZURE_FUNCTIONS_ENVIRONMENT: 'Production' }))).toEqual({
      ok: false,
      detail: expect.stringMatching(/^POSTING_WEBHOOK_SECRET is not set; it is required outside Development/),
    });
    const host = await spawnHost({ ...testEnvironment(), AZURE_FUNCTIONS_ENVIRONMENT: 'Production', POSTING_WEBHOOK_SECRET: '' });
    try {
      expect(host.output()).toMatch(/CONFIGURATION ERROR: POSTING_WEBHOOK_SECRET is not set/);
      const body = JSON.stringify(postingFor([{ actualId: 'x', amount: '1.00' }]));
      const res = await fetch(`${host.url}/api/invoice-proposals/usmf/P-1/posted`, { method: 'POST', headers: signedHeaders(body), body });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({
        type: `${PROBLEM_BASE}misconfigured`,
        status: 503,
        detail: expect.stringContaining('POSTING_WEBHOOK_SECRET'),
      });
      // Everything else runs: a read answers as usual.
      expect((await fetch(`${host.url}/api/invoice-proposals/usmf/NO-SUCH`)).status).toBe(404);
    } finally {
      await host.kill();
    }
  });

  it.each([
    ['not a Standard Webhooks secret', 'plain-password'],
    ['too short (16 bytes)', `whsec_${Buffer.alloc(16, 1).toString('base64')}`],
    ['one bad secret among good ones', `${TEST_WEBHOOK_SECRET} whsec_!!!`],
  ])('refuses a secret that is %s, without repeating it', (_, secret) => {
    const check = checkPostingSecrets(readSettings({ ...base, POSTING_WEBHOOK_SECRET: secret }));
    expect(check).toEqual({
      ok: false,
      detail: expect.stringMatching(/^POSTING_WEBHOOK_SECRET: each space-separated secret must be "whsec_"/),
    });
    expect(JSON.stringify(check)).not.toContain(secret);
  });

  it('says so when the platform could not resolve the Key Vault reference', () => {
    const reference = '@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/posting-webhook-secret)';
    expect(
      checkPostingSecrets(readSettings({ ...base, AZURE_FUNCTIONS_ENVIRONMENT: 'Production', POSTING_WEBHOOK_SECRET: reference })),
    ).toEqual({
      ok: false,
      detail: expect.stringMatching(/^POSTING_WEBHOOK_SECRET is an unresolved Key Vault reference/),
    });
  });

  it('accepts the secrets being rotated, in order', () => {
    expect(checkPostingSecrets(readSettings({ ...base, POSTING_WEBHOOK_SECRET: ` ${TEST_WEBHOOK_SECRET}  ${NEXT_SECRET} ` }))).toEqual({
      ok: true,
      secrets: [TEST_WEBHOOK_SECRET, NEXT_SECRET],
    });
  });
});

describe('empty app settings', () => {
  it('count as not set, as in the Functions host (an empty ServiceBusConnection means local queues)', () => {
    const s = readSettings({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      ServiceBusConnection: '',
      TABLE_PREFIX: '',
      AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
    });
    expect(s.ServiceBusConnection).toBeUndefined();
    expect(s.TABLE_PREFIX).toBe('');
  });

  it('are read without the posting secret, even in Production (operator tools and every other function need none)', () => {
    expect(
      readSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', AZURE_FUNCTIONS_ENVIRONMENT: 'Production' }).POSTING_WEBHOOK_SECRET,
    ).toBeUndefined();
  });
});
