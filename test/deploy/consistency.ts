/**
 * Consistency checks between the code and the deployment (infra/*.bicep, host.json,
 * docs/deploy.md). Pure functions over text, so the tests can feed them the real files
 * and a drifted copy. Bicep is read as text: the queue list is the array
 * `var serviceBusQueues = [...]` in infra/core/servicebus.bicep, the app settings are the
 * object `var appSettings = {...}` in infra/app/function.bicep.
 */

/** What the checks need from a function definition (shared/hosting/definition.ts). */
export type DefinitionLike = {
  kind: string;
  name: string;
  queueName?: string;
  connection?: string;
  scheduleSetting?: string;
};

/**
 * App settings the Bicep sets that are not keys of the config schema, because the
 * Functions host (not the product code) reads them. Each needs a reason.
 */
export const HOST_LEVEL_SETTINGS: Readonly<Record<string, string>> = {
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING:
    'read by the Functions host: authenticates telemetry to Application Insights as the app identity (local auth is off)',
  'AzureWebJobs.writeBackAccounting.Disabled':
    'read by the Functions host: switches the write-back off (no receiver on its queue) when no DATAVERSE_URL is given',
};

/**
 * Schema keys the Bicep deliberately does not set. Each must be explained in
 * docs/deploy.md (the deploy test checks that the name appears there).
 */
export const NOT_SET_BY_BICEP: Readonly<Record<string, string>> = {
  AzureWebJobsStorage: 'connection-string form, for Azurite locally; Azure uses the identity-based AzureWebJobsStorage__* settings',
  ServiceBusConnection:
    'connection-string form, for the emulator or a SAS-enabled namespace; Azure uses the identity-based ServiceBusConnection__* settings',
  OPS_OPERATOR_KEY: 'in Azure operators sign in with Microsoft Entra and hold the app role; the key is for local runs and scripts',
  WEBSITE_AUTH_ENABLED: 'set by App Service itself when its authentication is on',
  WEBSITE_SITE_NAME: 'set by the platform on every function app; pausing a flow finds its own site with it',
  WEBSITE_RESOURCE_GROUP: 'set by the platform; the resource group of the site',
  WEBSITE_OWNER_NAME: 'set by the platform ("<subscription id>+<webspace>"); the subscription of the site',
};

/**
 * App settings Flex Consumption has deprecated (runtime, package and scale live in
 * functionAppConfig). The Bicep must not set them.
 */
export const FLEX_DEPRECATED_SETTINGS = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
] as const;

// ---------------------------------------------------------------------------
// Bicep text helpers
// ---------------------------------------------------------------------------

/** Removes // and /* *\/ comments, leaving single-quoted strings alone. */
export function stripBicepComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const next = text[i + 1];
    if (ch === "'") {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (ch === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Index just after the single-quoted string that starts at `start` (Bicep escapes with a backslash). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === "'") return i + 1;
    else i++;
  }
  return text.length;
}

/**
 * The text between the bracket that follows `declaration` (e.g. `var appSettings =`)
 * and its matching closing bracket, comments removed. Undefined when not found.
 */
export function bicepBlock(text: string, declaration: string): string | undefined {
  const source = stripBicepComments(text);
  // An optional condition (`= if (...) {`) may sit between the declaration and the bracket.
  const at = source.search(new RegExp(`${escapeRegExp(declaration)}\\s*(?:if\\s*\\((?:[^()]|\\([^()]*\\))*\\)\\s*)?[\\[{]`));
  if (at === -1) return undefined;
  const open = source.slice(at + declaration.length).search(/[[{]/) + at + declaration.length;
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const ch = source[i];
    if (ch === "'") {
      i = endOfString(source, i) - 1;
    } else if (ch === '[' || ch === '{') {
      depth++;
    } else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return source.slice(open + 1, i);
    }
  }
  return undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Queue names of `var serviceBusQueues = [...]` (each element's `name: '...'`). */
export function bicepQueueNames(serviceBusBicep: string): string[] {
  const block = bicepBlock(serviceBusBicep, 'var serviceBusQueues =');
  if (block === undefined) return [];
  return [...block.matchAll(/\bname:\s*'([^']*)'/g)].map((m) => m[1]!);
}

/** Top-level keys of `var appSettings = {...}`. */
export function bicepAppSettingNames(functionBicep: string): string[] {
  const block = bicepBlock(functionBicep, 'var appSettings =');
  if (block === undefined) return [];
  const names: string[] = [];
  let depth = 0;
  for (const line of block.split('\n')) {
    if (depth === 0) {
      const m = /^\s*(?:'([^']+)'|([A-Za-z_][A-Za-z0-9_]*))\s*:/.exec(line);
      if (m) names.push((m[1] ?? m[2])!);
    }
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (ch === "'") i = endOfString(line, i) - 1;
      else if (ch === '{' || ch === '[' || ch === '(') depth++;
      else if (ch === '}' || ch === ']' || ch === ')') depth--;
    }
  }
  return names;
}

// ---------------------------------------------------------------------------
// checks: each returns the offending names (empty when consistent)
// ---------------------------------------------------------------------------

/**
 * Queue names the code uses (Service Bus function registrations and the QUEUES
 * constants) that the Bicep does not create.
 */
export function queuesMissingFromBicep(
  serviceBusBicep: string,
  definitions: readonly DefinitionLike[],
  queueConstants: readonly string[] = [],
): string[] {
  const inBicep = new Set(bicepQueueNames(serviceBusBicep));
  const used = [
    ...definitions.filter((d) => d.kind === 'serviceBus').map((d) => d.queueName ?? `(${d.name} has no queueName)`),
    ...queueConstants,
  ];
  return unique(used.filter((q) => !inBicep.has(q)));
}

/** Queues the Bicep creates that nothing in the code knows about. */
export function queuesUnknownToCode(serviceBusBicep: string, queueConstants: readonly string[]): string[] {
  const known = new Set(queueConstants);
  return unique(bicepQueueNames(serviceBusBicep).filter((q) => !known.has(q)));
}

/** App settings in the Bicep that are neither schema keys nor listed host-level settings. */
export function unknownAppSettings(
  functionBicep: string,
  schemaKeys: readonly string[],
  hostLevel: Readonly<Record<string, string>> = HOST_LEVEL_SETTINGS,
): string[] {
  const known = new Set([...schemaKeys, ...Object.keys(hostLevel)]);
  return unique(bicepAppSettingNames(functionBicep).filter((k) => !known.has(k)));
}

/** Schema keys the Bicep does not set and that are not listed as deliberately unset. */
export function schemaSettingsMissingFromBicep(
  functionBicep: string,
  schemaKeys: readonly string[],
  notSetByBicep: Readonly<Record<string, string>> = NOT_SET_BY_BICEP,
): string[] {
  const set = new Set(bicepAppSettingNames(functionBicep));
  return schemaKeys.filter((k) => !set.has(k) && !(k in notSetByBicep));
}

/** Schedule settings named by timer functions that the Bicep does not set. */
export function timerSettingsMissingFromBicep(functionBicep: string, definitions: readonly DefinitionLike[]): string[] {
  const set = new Set(bicepAppSettingNames(functionBicep));
  const wanted = definitions.filter((d) => d.kind === 'timer').map((d) => d.scheduleSetting ?? `(${d.name} has no scheduleSetting)`);
  return unique(wanted.filter((s) => !set.has(s)));
}

/**
 * Identity-based connection settings a Service Bus function needs in Azure
 * (`{connection}__fullyQualifiedNamespace`, `__credential`, `__clientId`) that the
 * Bicep does not set.
 */
export function serviceBusConnectionSettingsMissing(functionBicep: string, definitions: readonly DefinitionLike[]): string[] {
  const set = new Set(bicepAppSettingNames(functionBicep));
  const wanted = definitions
    .filter((d) => d.kind === 'serviceBus')
    .flatMap((d) => ['fullyQualifiedNamespace', 'credential', 'clientId'].map((p) => `${d.connection ?? '(none)'}__${p}`));
  return unique(wanted.filter((s) => !set.has(s)));
}

/** Flex Consumption deprecated settings the Bicep sets anyway. */
export function flexDeprecatedSettings(functionBicep: string): string[] {
  const deprecated = new Set<string>(FLEX_DEPRECATED_SETTINGS);
  return bicepAppSettingNames(functionBicep).filter((k) => deprecated.has(k));
}

/** Names that must appear in a document (e.g. docs/deploy.md) but do not. */
export function namesMissingFromDoc(doc: string, names: readonly string[]): string[] {
  return names.filter((n) => !doc.includes(n));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

// ---------------------------------------------------------------------------
// host.json
// ---------------------------------------------------------------------------

/** Parses an ISO 8601 duration like PT1M or P14D, or a .NET timespan like 00:05:00 / 1.00:00:00, to seconds. */
export function durationSeconds(value: string): number | undefined {
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (iso && value !== 'P' && value !== 'PT') {
    const [, d, h, m, s] = iso;
    return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
  }
  const span = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value);
  if (span) {
    const [, d, h, m, s] = span;
    return Number(d ?? 0) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
  }
  return undefined;
}

/** The Service Bus and extension-bundle facts docs/deploy.md documents about host.json. */
export function hostJsonProblems(hostJson: unknown): string[] {
  const problems: string[] = [];
  const h = (hostJson ?? {}) as Record<string, any>;
  if (h.version !== '2.0') problems.push('version must be "2.0"');
  if (h.extensionBundle?.id !== 'Microsoft.Azure.Functions.ExtensionBundle') {
    problems.push('extensionBundle.id must be Microsoft.Azure.Functions.ExtensionBundle');
  }
  if (h.extensionBundle?.version !== '[4.*, 5.0.0)') problems.push('extensionBundle.version must be "[4.*, 5.0.0)"');
  const sb = h.extensions?.serviceBus as Record<string, any> | undefined;
  if (!sb) {
    problems.push('extensions.serviceBus is missing');
    return problems;
  }
  if (!Number.isInteger(sb.maxConcurrentCalls) || sb.maxConcurrentCalls < 1) {
    problems.push('extensions.serviceBus.maxConcurrentCalls must be a positive integer');
  }
  if (typeof sb.maxAutoLockRenewalDuration !== 'string' || durationSeconds(sb.maxAutoLockRenewalDuration) === undefined) {
    problems.push('extensions.serviceBus.maxAutoLockRenewalDuration must be a timespan such as "00:05:00"');
  }
  if (sb.autoCompleteMessages !== true) problems.push('extensions.serviceBus.autoCompleteMessages must be true');
  return problems;
}
