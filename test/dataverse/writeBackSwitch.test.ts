import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import writeBackAccounting from '../../functions/writeBackAccounting';
import { enabledFunctions, isDisabled } from '../../host/disabledFunctions';
import { functionDefinitions } from '../../host/catalog';
import { ConfigurationError, resetSettings } from '../../shared/config';
import { ActualUpdates } from '../../shared/dataverse/actualUpdates';
import { dataverseTokenSource } from '../../shared/dataverse/accessToken';
import { dataverseEndpoint } from '../../shared/dataverse/endpoint';
import { QUEUES } from '../../shared/queues';
import type { Runtime } from '../../shared/runtime';
import { serviceBusContext } from '../support/builders';
import { testRuntime } from '../support/runtime';
import { bicepAppSettingExpressions, evaluateBicepValue } from '../deploy/coldStart';
import { startDataverseSimulator, type DataverseSimulator } from './simulator/server';

const root = join(__dirname, '..', '..');
const ACTUAL = 'ac000000-0000-4000-8000-000000000001';

describe('where the write-back goes and how it signs in', () => {
  it('takes a token for {DATAVERSE_URL}/.default from an https environment URL', () => {
    expect(dataverseEndpoint('https://contoso.crm.dynamics.com/')).toEqual({
      serverUrl: 'https://contoso.crm.dynamics.com',
      tokenScope: 'https://contoso.crm.dynamics.com/.default',
    });
  });

  it('sends no token to a plain-http loopback address (the Dataverse Web API stand-in)', () => {
    expect(dataverseEndpoint('http://127.0.0.1:8123').tokenScope).toBeNull();
    expect(dataverseEndpoint('http://localhost:8123').tokenScope).toBeNull();
  });

  it('refuses plain http anywhere else, and a URL with a path', () => {
    expect(() => dataverseEndpoint('http://contoso.crm.dynamics.com')).toThrow(ConfigurationError);
    expect(() => dataverseEndpoint('https://contoso.crm.dynamics.com/api/data/v9.2')).toThrow(/environment URL alone/);
    expect(() => dataverseEndpoint('contoso')).toThrow(/DATAVERSE_URL/);
  });

  it('asks the app identity for a token only when the endpoint needs one', () => {
    const s = { DATAVERSE__credential: 'managedidentity', DATAVERSE__clientId: '00000000-0000-0000-0000-000000000001' } as never;
    expect(dataverseTokenSource(s, dataverseEndpoint('http://127.0.0.1:1'))).toBeUndefined();
    expect(typeof dataverseTokenSource(s, dataverseEndpoint('https://contoso.crm.dynamics.com'))).toBe('function');
  });
});

describe('the token on the wire (Dataverse Web API stand-in)', () => {
  let dv: DataverseSimulator;
  afterEach(() => dv.close());

  it('sends the bearer token from the token source, and none without one', async () => {
    dv = await startDataverseSimulator({ seed: { msdyn_actuals: [{ msdyn_actualid: ACTUAL }] } });
    await new ActualUpdates({ serverUrl: dv.url, token: async () => 'token-from-identity' }).apply([
      { actualId: ACTUAL, columns: { msdyn_externalreferenceid: 'V' } },
    ]);
    await new ActualUpdates({ serverUrl: dv.url }).apply([{ actualId: ACTUAL, columns: { msdyn_externalreferenceid: 'V' } }]);
    expect(dv.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-from-identity', undefined]);
  });
});

describe('without DATAVERSE_URL everything works as today', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await testRuntime();
    delete process.env.DATAVERSE_URL;
    resetSettings();
  });

  it('ships switched off: the sample settings and the Bicep disable writeBackAccounting when no URL is given', () => {
    const sample = JSON.parse(readFileSync(join(root, 'local.settings.sample.json'), 'utf8')).Values as Record<string, string>;
    expect(sample.DATAVERSE_URL).toBe('');
    expect(isDisabled('writeBackAccounting', sample)).toBe(true);
    const disabled = bicepAppSettingExpressions(readFileSync(join(root, 'infra/app/function.bicep'), 'utf8'))[
      'AzureWebJobs.writeBackAccounting.Disabled'
    ]!;
    expect(evaluateBicepValue(disabled, { dataverseUrl: '' })).toBe('true');
    expect(evaluateBicepValue(disabled, { dataverseUrl: 'https://contoso.crm.dynamics.com' })).toBe('false');
  });

  it('the local host does not run a function switched off with AzureWebJobs.<name>.Disabled, as func start and Azure do not', () => {
    const names = (env: NodeJS.ProcessEnv) => enabledFunctions(functionDefinitions, env, () => {}).map((d) => d.name);
    expect(names({ 'AzureWebJobs.writeBackAccounting.Disabled': 'true' })).not.toContain('writeBackAccounting');
    expect(names({ 'AzureWebJobs.writeBackAccounting.Disabled': '1' })).not.toContain('writeBackAccounting');
    expect(names({ 'AzureWebJobs.writeBackAccounting.Disabled': 'false' })).toContain('writeBackAccounting');
    expect(names({})).toHaveLength(functionDefinitions.length);
  });

  it('if run anyway, the function fails with a configuration error naming the settings, so the message is neither completed nor quarantined', async () => {
    const before = (await rt.quarantine.list(QUEUES.accountingUpdates)).length;
    const body = { actualId: ACTUAL, voucher: 'V', accountingDate: '2026-11-21' };
    await expect(writeBackAccounting.handler(JSON.stringify(body), serviceBusContext())).rejects.toThrow(
      /DATAVERSE_URL is not set.*AzureWebJobs\.writeBackAccounting\.Disabled=true/,
    );
    expect((await rt.quarantine.list(QUEUES.accountingUpdates)).length).toBe(before);
  });
});
