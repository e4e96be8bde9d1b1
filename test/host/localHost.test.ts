import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isListening } from '../../host/azurite';
import { proposalWithActuals } from '../support/builders';
import { adminCall, spawnHost, until, type HostProcess } from '../support/hostProcess';
import { postingFor, signedHeaders } from '../support/posting';
import { testEnvironment } from '../support/runtime';

const json = async (res: Response) => ({
  status: res.status,
  type: res.headers.get('content-type'),
  body: (await res.json().catch(() => undefined)) as any,
});

describe('npm start (the real local host, driven over HTTP)', () => {
  it('serves /api within 30 s with embedded Azurite and nothing else, keeps data on disk, and stops cleanly on SIGTERM', async () => {
    const azuritePort = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'azurite-'));
    const started = Date.now();
    const host = await spawnHost(
      {
        AzureWebJobsStorage: `UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1:${azuritePort}`,
        LOCAL_DATA_DIR: dataDir,
        TABLE_PREFIX: '',
      },
      { entry: 'npm-start', readyWithinMs: 30_000 },
    );
    try {
      await until('the ready banner', async () => host.output().includes('Local host ready'));
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(host.output()).toContain('(Azurite: embedded)');
      const missing = await json(await fetch(`${host.url}/api/invoice-proposals/usmf/PINV-404`));
      expect(missing).toMatchObject({
        status: 404,
        type: 'application/problem+json',
        body: { detail: 'proposal PINV-404 of legal entity usmf does not exist' },
      });
      expect(await host.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await host.kill('SIGTERM'); // a failed assertion must not leave the host and its Azurite running
    }
    expect(await isListening(azuritePort)).toBe(false); // Azurite stopped with it
    expect(readdirSync(dataDir).length).toBeGreaterThan(0);
  });
});

describe('local host: routes, admin call, timers, keys', () => {
  let host: HostProcess;
  // The fast path off: the lines below must come from the schedule and the admin call (the fast path: test/fastPath.test.ts).
  const env = testEnvironment({ IMPORT_SCHEDULE: '*/1 * * * * *', LOCAL_REDELIVERY_DELAY_MS: '50', IMPORT_FAST_PATH: 'false' });
  beforeAll(async () => {
    host = await spawnHost(env);
  });
  afterAll(async () => {
    await host?.kill();
  });

  it('takes messages through the admin call (202), runs Import from staging on its schedule, and answers the HTTP routes', async () => {
    const p = proposalWithActuals({ proposalId: 'HOST-1', lines: 3 });
    const accepted = await adminCall(host.url, 'syncInvoiceProposal', p.invoice);
    expect(accepted).toMatchObject({ status: 202, body: { queue: 'project-invoice-proposals', messageId: expect.any(String) } });
    for (const a of p.actuals) expect((await adminCall(host.url, 'syncActuals', a)).status).toBe(202);

    // No admin call for the import: the every-second schedule runs it.
    const view = await until('lines from the scheduled import', async () => {
      const r = await json(await fetch(`${host.url}/api/invoice-proposals/usmf/HOST-1`));
      return r.body?.status === 'LinesCreated' && r;
    });
    expect(view.body.lines).toHaveLength(3);

    const body = JSON.stringify(postingFor(p.actuals));
    const posted = await fetch(`${host.url}/api/invoice-proposals/usmf/HOST-1/posted`, {
      method: 'POST',
      headers: signedHeaders(body),
      body,
    });
    expect(posted.status).toBe(200);
    const actual = await json(await fetch(`${host.url}/api/actuals/usmf/${encodeURIComponent(p.actuals[0]!.actualId)}`));
    expect(actual.body).toMatchObject({ status: 'Processed', billingStatus: 'CustomerInvoicePosted' });
    const outbound = await json(await fetch(`${host.url}/admin/local/outbound`));
    expect(outbound.body.filter((m: any) => m.body.proposalId === 'HOST-1')).toHaveLength(3);
  });

  it('answers like the Functions host: 404 for an unknown function or route, 405 for proposal writes, 400 for an HTTP function on the admin call', async () => {
    expect((await adminCall(host.url, 'noSuchFunction', 'x')).status).toBe(404);
    expect((await adminCall(host.url, 'getActual', 'x')).status).toBe(400);
    expect((await fetch(`${host.url}/api/nothing/here`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/invoice-proposals/usmf/HOST-1`, { method: 'PATCH' })).status).toBe(405);
    expect((await fetch(`${host.url}/api/invoice-proposals`, { method: 'POST' })).status).toBe(405);
  });

  it('runs a timer through the admin call', async () => {
    const p = proposalWithActuals({ proposalId: 'HOST-2', lines: 1 });
    await adminCall(host.url, 'syncInvoiceProposal', p.invoice);
    await adminCall(host.url, 'syncActuals', p.actuals[0]);
    expect((await adminCall(host.url, 'importFromStaging', '')).status).toBe(202);
    await until(
      'lines',
      async () => (await json(await fetch(`${host.url}/api/invoice-proposals/usmf/HOST-2`))).body?.status === 'LinesCreated',
    );
  });
});

describe('local host with LOCAL_FUNCTION_KEY', () => {
  it('requires the key for /api and /admin (header x-functions-key or ?code=), but not for openapi.json', async () => {
    const host = await spawnHost(testEnvironment({ LOCAL_FUNCTION_KEY: 'local-key-123' }));
    try {
      const denied = await json(await fetch(`${host.url}/api/invoice-proposals/usmf/P-1`));
      expect(denied).toMatchObject({ status: 401, type: 'application/problem+json', body: { field: 'x-functions-key' } });
      expect((await fetch(`${host.url}/api/invoice-proposals/usmf/P-1?code=local-key-123`)).status).toBe(404);
      expect((await fetch(`${host.url}/api/invoice-proposals/usmf/P-1`, { headers: { 'x-functions-key': 'local-key-123' } })).status).toBe(
        404,
      );
      expect((await adminCall(host.url, 'syncActuals', '{}')).status).toBe(401);
      expect((await adminCall(host.url, 'syncActuals', '{}', { 'x-functions-key': 'local-key-123' })).status).toBe(202);
      // The OpenAPI document alone is anonymous (functions/getOpenApi.ts), over real HTTP.
      const described = await json(await fetch(`${host.url}/api/openapi.json`));
      expect(described).toMatchObject({ status: 200, type: 'application/json', body: { openapi: '3.1.0' } });
    } finally {
      await host.kill();
    }
  });
});
