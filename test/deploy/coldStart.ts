/**
 * The app settings an Azure cold start sees, and calls into what the worker
 * registered, for the "Azure cold start" tests in package.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Functions from '@azure/functions';
import { bicepBlock } from './consistency';
import type { ColdStart, Registration } from '../support/functionsWorker';

const root = join(__dirname, '..', '..');

/**
 * Each top-level entry of `var appSettings = {...}` with its value as Bicep source text
 * (`'literal ${param}'` or a parameter name). Every value there fits on one line.
 */
export function bicepAppSettingExpressions(functionBicep: string): Record<string, string> {
  const block = bicepBlock(functionBicep, 'var appSettings =') ?? '';
  const out: Record<string, string> = {};
  for (const line of block.split('\n')) {
    const m = /^\s*(?:'([^']+)'|([A-Za-z_][A-Za-z0-9_]*))\s*:\s*(\S.*?)\s*$/.exec(line);
    if (m) out[(m[1] ?? m[2])!] = m[3]!;
  }
  return out;
}

/** The value of a one-line Bicep expression: a string literal with `${param}` holes, or a parameter. */
export function evaluateBicepValue(expression: string, params: Readonly<Record<string, string>>): string {
  const param = (name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value given for Bicep parameter ${name} (in ${expression})`);
    return value;
  };
  if (/^[A-Za-z_]\w*$/.test(expression)) return param(expression);
  const choice = /^empty\((\w+)\) \? '([^']*)' : '([^']*)'$/.exec(expression); // a setting derived from whether a parameter is given
  if (choice) return param(choice[1]!) === '' ? choice[2]! : choice[3]!;
  const literal = /^'((?:\\.|[^'\\])*)'$/.exec(expression);
  if (!literal) throw new Error(`not a one-line string or parameter: ${expression}`);
  return literal[1]!.replace(/\$\{(\w+)\}/g, (_, name: string) => param(name)).replace(/\\(.)/g, '$1');
}

/** What an unresolved reference looks like: the platform leaves the text as it is. */
export const UNRESOLVED_KEY_VAULT_REFERENCE =
  '@Microsoft.KeyVault(SecretUri=https://kv-example.vault.azure.net/secrets/posting-webhook-secret)';

/**
 * The app settings infra/app/function.bicep gives the site, with example values for its
 * resource parameters and main.bicep's defaults for the rest; the Key Vault reference
 * unresolved, as the site sees it before the secret exists or the role has propagated.
 */
export function siteAppSettings(): Record<string, string> {
  const main = readFileSync(join(root, 'infra', 'main.bicep'), 'utf8');
  const mainDefault = (name: string) => {
    const m = new RegExp(`^param ${name} string = '([^']*)'`, 'm').exec(main);
    if (!m) throw new Error(`main.bicep has no string default for ${name}`);
    return m[1]!;
  };
  const params: Record<string, string> = {
    storageAccountName: 'stexample',
    storageTableEndpoint: 'https://stexample.table.core.windows.net/',
    identityClientId: '00000000-0000-0000-0000-000000000001',
    serviceBusFullyQualifiedNamespace: 'sb-example.servicebus.windows.net',
    postingWebhookSecretUri: 'https://kv-example.vault.azure.net/secrets/posting-webhook-secret',
    applicationInsightsConnectionString: 'InstrumentationKey=00000000-0000-0000-0000-000000000002',
    importSchedule: mainDefault('importSchedule'),
    importFastPath: mainDefault('importFastPath'),
    dispatchSchedule: mainDefault('dispatchSchedule'),
    tablePrefix: mainDefault('tablePrefix'),
    dataverseUrl: mainDefault('dataverseUrl'),
  };
  const expressions = bicepAppSettingExpressions(readFileSync(join(root, 'infra', 'app', 'function.bicep'), 'utf8'));
  return Object.fromEntries(Object.entries(expressions).map(([name, expression]) => [name, evaluateBicepValue(expression, params)]));
}

/**
 * The same settings with the Azure-only connections swapped for the test's own, so
 * that the handlers can run here: storage on Azurite (a connection string wins over
 * the identity settings) and no Service Bus namespace (accounting updates go to the
 * local outbound table). Nothing reaches Azure.
 */
export function runnableHere(settings: Record<string, string>, azurite: string): Record<string, string> {
  const here = Object.fromEntries(Object.entries(settings).filter(([name]) => !name.startsWith('ServiceBusConnection')));
  return { ...here, AzureWebJobsStorage: azurite, TABLE_PREFIX: `t${randomBytes(5).toString('hex')}` };
}

/** Calls into one cold start's registrations, with the package's own @azure/functions types. */
export function invoker(app: string, start: ColdStart) {
  const functions = createRequire(join(app, 'package.json'))('@azure/functions') as typeof Functions;
  const registration = (name: string): Registration => {
    const r = start.registrations.find((x) => x.name === name);
    if (!r) throw new Error(`${name} is not registered`);
    return r;
  };
  const context = (name: string, triggerMetadata: Record<string, unknown> = {}) =>
    new functions.InvocationContext({
      functionName: name,
      invocationId: randomBytes(8).toString('hex'),
      triggerMetadata,
      logHandler: () => {},
    });
  return {
    /** A Service Bus delivery, its body already parsed from JSON as the worker does. */
    deliver: (name: string, body: unknown, messageId: string) =>
      registration(name).callback(body, context(name, { messageId, deliveryCount: 1, enqueuedTimeUtc: new Date().toISOString() })),
    tick: (name: string) =>
      registration(name).callback(
        { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } },
        context(name),
      ),
    http: async (
      name: string,
      init: { method: string; path: string; params: Record<string, string>; body?: string; headers?: Record<string, string> },
    ) => {
      const request = new functions.HttpRequest({
        method: init.method,
        url: `https://func-api-example.azurewebsites.net/api/${init.path}`,
        params: init.params,
        headers: init.headers ?? {},
        ...(init.body !== undefined ? { body: { string: init.body } } : {}),
      });
      const response = (await registration(name).callback(request, context(name))) as Functions.HttpResponseInit;
      const headers = new Headers(response.headers as Record<string, string> | undefined);
      const text = typeof response.body === 'string' ? response.body : undefined;
      return { status: response.status ?? 200, contentType: headers.get('content-type'), body: response.jsonBody as any, text };
    },
  };
}
