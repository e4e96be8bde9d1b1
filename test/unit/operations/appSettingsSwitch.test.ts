import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/config';
import {
  appSettingsRequests,
  AppSettingsTriggerSwitch,
  siteAddress,
  type Fetch,
  type SiteAddress,
} from '../../../shared/operations/appSettingsSwitch';
import { TriggerSwitchError } from '../../../shared/operations/triggerSwitch';
import { triggerSwitchKind } from '../../../shared/operations/flowControl';

const SUB = '0b1f6471-1bf0-4dda-aec3-111122223333';
const SITE: SiteAddress = { subscriptionId: SUB, resourceGroup: 'rg-invoices', site: 'func-api-abc' };
const BASE = `https://management.azure.com/subscriptions/${SUB}/resourceGroups/rg-invoices/providers/Microsoft.Web/sites/func-api-abc`;

type Call = { method: string; url: string; auth?: string; body?: unknown };

/**
 * A stand-in for Azure Resource Manager's Web Apps app-settings operations, answering as
 * documented: 200 with the StringDictionary ({ properties }) for List (POST .../appsettings/list)
 * and Update (PUT .../appsettings, which replaces every setting); otherwise the ARM error shape
 * { error: { code, message } } with its status.
 */
function standInArm(initial: Record<string, string>, fail?: { status: number; code: string; message: string }) {
  let settings = { ...initial };
  const calls: Call[] = [];
  const fetch: Fetch = async (url, init) => {
    calls.push({ method: init.method, url, auth: init.headers.authorization, body: init.body ? JSON.parse(init.body) : undefined });
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (fail) return json(fail.status, { error: { code: fail.code, message: fail.message } });
    if (init.method === 'POST' && url === `${BASE}/config/appsettings/list?api-version=2024-04-01`)
      return json(200, { id: `${BASE}/config/appsettings`, name: 'appsettings', type: 'Microsoft.Web/sites/config', properties: settings });
    if (init.method === 'PUT' && url === `${BASE}/config/appsettings?api-version=2024-04-01`) {
      settings = { ...(JSON.parse(init.body!) as { properties: Record<string, string> }).properties };
      return json(200, { id: `${BASE}/config/appsettings`, name: 'appsettings', properties: settings });
    }
    return json(404, { error: { code: 'NotFound', message: 'no such operation' } });
  };
  return { fetch, calls, settings: () => settings };
}

const token = async () => 'arm-token';

describe('the app-settings trigger switch (stand-in Azure Resource Manager answering as documented)', () => {
  it('switches functions off with one list and one update that puts back every other setting unchanged', async () => {
    const arm = standInArm({ TABLE_PREFIX: '', POSTING_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=https://kv/secrets/x)' });
    const sw = new AppSettingsTriggerSwitch(SITE, token, { fetch: arm.fetch });
    await sw.set({ importFromStaging: true, importProposal: true });
    expect(arm.calls.map((c) => [c.method, c.url.replace(BASE, '')])).toEqual([
      ['POST', '/config/appsettings/list?api-version=2024-04-01'],
      ['PUT', '/config/appsettings?api-version=2024-04-01'],
    ]);
    expect(arm.calls.every((c) => c.auth === 'Bearer arm-token')).toBe(true);
    expect(arm.calls[1]!.body).toEqual({
      properties: {
        TABLE_PREFIX: '',
        POSTING_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=https://kv/secrets/x)',
        'AzureWebJobs.importFromStaging.Disabled': 'true',
        'AzureWebJobs.importProposal.Disabled': 'true',
      },
    });
    expect(await sw.state(['importFromStaging', 'syncActuals'])).toEqual({ importFromStaging: true, syncActuals: false });
  });

  it('does not write (and so does not restart the app) when the settings already say so', async () => {
    const arm = standInArm({ 'AzureWebJobs.writeBackAccounting.Disabled': 'True' });
    await new AppSettingsTriggerSwitch(SITE, token, { fetch: arm.fetch }).set({ writeBackAccounting: true });
    expect(arm.calls.map((c) => c.method)).toEqual(['POST']);
  });

  it('switches a function on again with "false", as the Functions host reads it', async () => {
    const arm = standInArm({ 'AzureWebJobs.syncActuals.Disabled': 'true' });
    await new AppSettingsTriggerSwitch(SITE, token, { fetch: arm.fetch }).set({ syncActuals: false });
    expect(arm.settings()).toEqual({ 'AzureWebJobs.syncActuals.Disabled': 'false' });
  });

  it.each([
    [401, 'InvalidAuthenticationToken', /refused the app's token \(401\)/],
    [403, 'AuthorizationFailed', /may not change the app settings of site func-api-abc .*\(403\).*Website Contributor on the site/],
    [404, 'ResourceNotFound', /does not know site func-api-abc in resource group rg-invoices .*\(404\).*WEBSITE_SITE_NAME/],
    [429, 'TooManyRequests', /answered 429 \(TooManyRequests: .*\); try again/],
  ])('a %i answer (%s) fails the change with what to do, and changes nothing', async (status, code, detail) => {
    const arm = standInArm({}, { status, code, message: `ARM says ${code}` });
    const sw = new AppSettingsTriggerSwitch(SITE, token, { fetch: arm.fetch });
    const failure = await sw.set({ syncActuals: true }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TriggerSwitchError);
    expect((failure as Error).message).toMatch(detail);
    expect((failure as Error).message).toContain(`ARM says ${code}`);
    expect(arm.calls.map((c) => c.method)).toEqual(['POST']);
  });
});

describe('where the switch finds the app', () => {
  it('reads the site, resource group and subscription from the platform variables', () => {
    expect(
      siteAddress({
        WEBSITE_SITE_NAME: 'func-api-abc',
        WEBSITE_RESOURCE_GROUP: 'rg-invoices',
        WEBSITE_OWNER_NAME: `${SUB}+rg-invoices-EastUSwebspace`,
      }),
    ).toEqual(SITE);
    expect(appSettingsRequests(SITE).list.url).toBe(`${BASE}/config/appsettings/list?api-version=2024-04-01`);
  });

  it('names the missing or malformed platform variables', () => {
    expect(() => siteAddress({ WEBSITE_SITE_NAME: 'func-api-abc' })).toThrow(ConfigurationError);
    expect(() => siteAddress({ WEBSITE_SITE_NAME: 'func-api-abc' })).toThrow(/WEBSITE_RESOURCE_GROUP, WEBSITE_OWNER_NAME not set/);
    expect(() => siteAddress({ WEBSITE_SITE_NAME: 'a', WEBSITE_RESOURCE_GROUP: 'b', WEBSITE_OWNER_NAME: 'not-a-guid+ws' })).toThrow(
      /WEBSITE_OWNER_NAME: expected "<subscription id>\+<webspace>"/,
    );
  });

  it('uses app settings in Azure and the local table elsewhere, unless OPS_TRIGGER_SWITCH says otherwise', () => {
    expect(triggerSwitchKind({ WEBSITE_SITE_NAME: 'func-api-abc' })).toBe('app-settings');
    expect(triggerSwitchKind({})).toBe('local');
    expect(triggerSwitchKind({ WEBSITE_SITE_NAME: 'func-api-abc', OPS_TRIGGER_SWITCH: 'local' })).toBe('local');
    expect(triggerSwitchKind({ OPS_TRIGGER_SWITCH: 'app-settings' })).toBe('app-settings');
  });
});
