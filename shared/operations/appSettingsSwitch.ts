import { ConfigurationError, type Settings } from '../config';
import { identityCredential } from '../identity';
import { disabledSetting, isDisabledValue, TriggerSwitchError, type TriggerSwitch } from './triggerSwitch';

/** The function app itself, as Azure Resource Manager addresses it. */
export interface SiteAddress {
  subscriptionId: string;
  resourceGroup: string;
  site: string;
}

/** The Microsoft.Web API version the Bicep uses too (infra/app/function.bicep). */
export const ARM_API_VERSION = '2024-04-01';
export const ARM_ENDPOINT = 'https://management.azure.com';

/**
 * The app's own address, from the variables the platform sets on every
 * function app: WEBSITE_SITE_NAME, WEBSITE_RESOURCE_GROUP, and
 * WEBSITE_OWNER_NAME ("<subscription id>+<webspace>").
 */
export function siteAddress(s: Pick<Settings, 'WEBSITE_SITE_NAME' | 'WEBSITE_RESOURCE_GROUP' | 'WEBSITE_OWNER_NAME'>): SiteAddress {
  const missing = (['WEBSITE_SITE_NAME', 'WEBSITE_RESOURCE_GROUP', 'WEBSITE_OWNER_NAME'] as const).filter((k) => !s[k]);
  if (missing.length)
    throw new ConfigurationError(
      `${missing.join(', ')} not set: pausing a flow through app settings (OPS_TRIGGER_SWITCH=app-settings) works only inside Azure, where the platform sets them`,
    );
  const subscriptionId = s.WEBSITE_OWNER_NAME!.split('+')[0]!;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(subscriptionId))
    throw new ConfigurationError('WEBSITE_OWNER_NAME: expected "<subscription id>+<webspace>", the subscription id is not a GUID');
  return { subscriptionId, resourceGroup: s.WEBSITE_RESOURCE_GROUP!, site: s.WEBSITE_SITE_NAME! };
}

/** Web Apps - List Application Settings (POST) and Web Apps - Update Application Settings (PUT). */
export function appSettingsRequests(address: SiteAddress, endpoint = ARM_ENDPOINT) {
  const site =
    `${endpoint.replace(/\/$/, '')}/subscriptions/${encodeURIComponent(address.subscriptionId)}` +
    `/resourceGroups/${encodeURIComponent(address.resourceGroup)}/providers/Microsoft.Web/sites/${encodeURIComponent(address.site)}`;
  return {
    list: { method: 'POST', url: `${site}/config/appsettings/list?api-version=${ARM_API_VERSION}` },
    /** The PUT replaces every setting: the body holds them all, one changed. */
    update: (properties: Record<string, string>) => ({
      method: 'PUT',
      url: `${site}/config/appsettings?api-version=${ARM_API_VERSION}`,
      body: JSON.stringify({ properties }),
    }),
  } as const;
}

export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<Response>;

/**
 * The Azure switch: the function app changes its own app settings through
 * Azure Resource Manager, as its managed identity (role Website Contributor on
 * the site, infra/app/function.bicep). List, change the one setting, put them
 * all back: the API has no single-setting write. Changing app settings
 * restarts the app (docs/operations.md, "Pause and resume").
 */
export class AppSettingsTriggerSwitch implements TriggerSwitch {
  readonly kind = 'app-settings';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly address: SiteAddress,
    private readonly token: () => Promise<string>,
    private readonly options: { fetch?: Fetch; endpoint?: string } = {},
  ) {}

  static fromSettings(s: Settings): AppSettingsTriggerSwitch {
    const credential = identityCredential(s, 'OPS_ARM');
    const token = async () => {
      const t = await credential.getToken(`${ARM_ENDPOINT}/.default`).catch((e: Error) => {
        throw new TriggerSwitchError(`the app's identity could not get a token for Azure Resource Manager: ${e.message}`);
      });
      if (!t) throw new TriggerSwitchError("the app's identity got no token for Azure Resource Manager");
      return t.token;
    };
    return new AppSettingsTriggerSwitch(siteAddress(s), token);
  }

  async state(functions: readonly string[]): Promise<Record<string, boolean>> {
    const settings = await this.list();
    return Object.fromEntries(functions.map((fn) => [fn, isDisabledValue(settings[disabledSetting(fn)])]));
  }

  /** One change at a time in this instance, so two pauses here cannot overwrite each other's setting. */
  set(disabled: Readonly<Record<string, boolean>>): Promise<void> {
    const run = this.queue.then(() => this.change(disabled));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async change(disabled: Readonly<Record<string, boolean>>): Promise<void> {
    const current = await this.list();
    const wanted = Object.fromEntries(Object.entries(disabled).map(([fn, off]) => [disabledSetting(fn), off ? 'true' : 'false']));
    if (Object.entries(wanted).every(([k, v]) => isDisabledValue(current[k]) === (v === 'true'))) return; // no restart for nothing
    const req = appSettingsRequests(this.address, this.options.endpoint).update({ ...current, ...wanted });
    const written = await this.call(req.method, req.url, req.body);
    const lost = Object.keys(wanted).filter((k) => written[k] !== wanted[k]);
    if (lost.length) throw new TriggerSwitchError(`Azure Resource Manager did not keep ${lost.join(', ')}; try again`);
  }

  private async list(): Promise<Record<string, string>> {
    const req = appSettingsRequests(this.address, this.options.endpoint).list;
    return this.call(req.method, req.url);
  }

  private async call(method: string, url: string, body?: string): Promise<Record<string, string>> {
    const fetchFn = this.options.fetch ?? fetch;
    const headers: Record<string, string> = { authorization: `Bearer ${await this.token()}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetchFn(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    const json = (await res.json().catch(() => undefined)) as
      { properties?: Record<string, string>; error?: { code?: string; message?: string } } | undefined;
    if (res.status === 200 && json?.properties) return json.properties;
    throw new TriggerSwitchError(armFailure(res.status, json?.error, this.address));
  }
}

/** What an operator (or the lead reading the log) needs from an ARM error: what happened, and the fix. */
export function armFailure(status: number, error: { code?: string; message?: string } | undefined, a: SiteAddress): string {
  const said = error ? ` (${error.code ?? 'no code'}: ${error.message ?? 'no message'})` : '';
  const where = `site ${a.site} in resource group ${a.resourceGroup} of subscription ${a.subscriptionId}`;
  if (status === 401) return `Azure Resource Manager refused the app's token (401)${said}`;
  if (status === 403)
    return `the app's identity may not change the app settings of ${where} (403)${said}: it needs the role Website Contributor on the site (infra/app/function.bicep)`;
  if (status === 404)
    return `Azure Resource Manager does not know ${where} (404)${said}: check WEBSITE_SITE_NAME, WEBSITE_RESOURCE_GROUP, WEBSITE_OWNER_NAME`;
  if (status === 200) return 'Azure Resource Manager answered 200 without the settings (no "properties")';
  return `Azure Resource Manager answered ${status}${said}; try again`;
}
