import { z } from 'zod';

/**
 * Every app setting the product reads. What every function needs (storage, the
 * table prefix, the Service Bus connection) is validated once, and a bad or
 * missing value stops the app with a message that names the setting. A setting
 * that only one function needs (the posting secret, a timer's schedule) is
 * checked where that function runs, so a bad value fails that function alone
 * (docs/deploy.md, "One bad setting fails one function").
 *
 * Storage and Service Bus follow the Functions host's own connection convention:
 * either a connection string under the plain name, or identity-based settings
 * under `NAME__…` (fullyQualifiedNamespace / tableServiceUri, clientId, credential).
 */
/**
 * An NCRONTAB schedule. Its host reads and checks it (the Functions host through
 * %NAME% in Azure, host/ locally), so a bad one stops that timer alone.
 */
const schedule = z.string().trim();

const optionalText = z.string().trim().min(1).optional();

/** An on/off setting, as app settings spell it ("true"/"false"; also 1/0, yes/no, on/off). */
const onOff = z.stringbool({ error: 'must be "true" or "false"' });

/** A Standard Webhooks signing secret: whsec_ + base64 of at least 24 random bytes. */
export function isSigningSecret(secret: string): boolean {
  const key = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : undefined;
  return !!key && /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length >= 24;
}

export const settingsSchema = z.object({
  AzureWebJobsStorage: optionalText.describe('Storage connection string, or UseDevelopmentStorage=true for Azurite'),
  AzureWebJobsStorage__accountName: optionalText.describe('Storage account name for identity-based access'),
  AzureWebJobsStorage__tableServiceUri: z.url().optional().describe('Table endpoint for identity-based access'),
  AzureWebJobsStorage__clientId: optionalText.describe('Client id of the user-assigned managed identity for storage'),
  AzureWebJobsStorage__credential: optionalText.describe('"managedidentity" for identity-based access'),
  ServiceBusConnection: optionalText.describe('Service Bus connection string (local emulator or a namespace)'),
  ServiceBusConnection__fullyQualifiedNamespace: optionalText.describe('Service Bus namespace host for identity-based access'),
  ServiceBusConnection__clientId: optionalText.describe('Client id of the user-assigned managed identity for Service Bus'),
  ServiceBusConnection__credential: optionalText.describe('"managedidentity" for identity-based access'),
  IMPORT_SCHEDULE: schedule.default('0 */5 * * * *').describe('When Import from staging runs'),
  IMPORT_FAST_PATH: onOff
    .default(true)
    .describe(
      'Import a proposal as soon as its last billed sales actual (or its header) is staged; "false" leaves lines to the IMPORT_SCHEDULE runs',
    ),
  DISPATCH_SCHEDULE: schedule.default('30 */1 * * * *').describe('When unsent accounting updates are sent again'),
  DATAVERSE_URL: optionalText.describe(
    'Dataverse environment URL (https://<org>.crm.dynamics.com) for the accounting write-back; unset leaves updates on the queue',
  ),
  DATAVERSE_CONTRACT_COMPANY_COLUMN: z
    .string()
    .trim()
    .regex(/^[a-z_][a-z0-9_]*$/, 'must be the logical name of a lookup column, e.g. msdyn_company')
    .default('msdyn_company')
    .describe(
      "The project contract's (salesorder's) lookup column to the dual-write company (cdm_company) whose code is the legal entity of native messages",
    ),
  DATAVERSE__clientId: optionalText.describe('Client id of the user-assigned managed identity for Dataverse'),
  DATAVERSE__credential: optionalText.describe('"managedidentity" to get the Dataverse token from the managed identity only'),
  POSTING_WEBHOOK_SECRET: optionalText.describe(
    'Standard Webhooks secret(s) for the posting callback, whsec_…, space-separated while rotating',
  ),
  TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{0,20}$|^$/, 'must be letters and digits, starting with a letter, at most 21 characters')
    .default('')
    .describe('Prefix for every table name, to run several environments in one account'),
  OPS_OPERATOR_KEY: z
    .string()
    .trim()
    .min(24, 'must be at least 24 characters (a random secret)')
    .optional()
    .describe('Secret that gives the operator role to callers without Microsoft Entra sign-in (header x-operator-key); unset: none'),
  OPS_OPERATOR_ROLE: z
    .string()
    .trim()
    .min(1)
    .default('Invoice.Operator')
    .describe('The Microsoft Entra app role that may retry, pause, resume and run the import'),
  OUT_OF_SYNC_HOURS: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number of hours')
    .default('4')
    .transform(Number)
    .describe('A posting whose accounting is not sent this many hours later is listed as out of sync'),
  WEBSITE_AUTH_ENABLED: z
    .string()
    .optional()
    .describe('Set by App Service when its authentication is on ("True"): only then is x-ms-client-principal trusted'),
  AZURE_FUNCTIONS_ENVIRONMENT: z.string().default('Production').describe('"Development" locally'),
  OPS_TRIGGER_SWITCH: z
    .enum(['app-settings', 'local'])
    .optional()
    .describe(
      'How pausing a flow switches its functions off: "app-settings" (the app changes its own AzureWebJobs.<function>.Disabled settings through Azure Resource Manager) or "local" (the local host reads them from a table); unset: app-settings in Azure (WEBSITE_SITE_NAME set), local otherwise',
    ),
  OPS_ARM__clientId: optionalText.describe('Client id of the user-assigned managed identity that changes the app settings to pause a flow'),
  OPS_ARM__credential: optionalText.describe('"managedidentity" to change the app settings as the managed identity only'),
  WEBSITE_SITE_NAME: optionalText.describe("Set by the platform: the function app's name (pausing a flow changes its app settings)"),
  WEBSITE_RESOURCE_GROUP: optionalText.describe('Set by the platform: the resource group of the function app'),
  WEBSITE_OWNER_NAME: optionalText.describe('Set by the platform: "<subscription id>+<webspace>", the subscription of the function app'),
  APPLICATIONINSIGHTS_CONNECTION_STRING: optionalText.describe('Application Insights, read by the Functions host'),
});

export type Settings = z.infer<typeof settingsSchema>;

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  // As in the Functions host, an app setting set to the empty string is not set.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = settingsSchema.safeParse(given);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigurationError(`Invalid app settings: ${problems.join('; ')}`);
  }
  const s = result.data;
  if (!s.AzureWebJobsStorage && !s.AzureWebJobsStorage__accountName && !s.AzureWebJobsStorage__tableServiceUri) {
    throw new ConfigurationError(
      'Invalid app settings: AzureWebJobsStorage (or AzureWebJobsStorage__accountName for a managed identity) is required',
    );
  }
  return s;
}

export type PostingSecrets = { ok: true; secrets: string[] } | { ok: false; detail: string };

/**
 * The posting callback's secrets, checked where the callback runs. Outside
 * Development a missing or malformed value is refused, with a message that names
 * the setting and never repeats its value. In Development none may be set (every
 * signed callback is then refused as unverifiable).
 */
export function checkPostingSecrets(s: Pick<Settings, 'POSTING_WEBHOOK_SECRET' | 'AZURE_FUNCTIONS_ENVIRONMENT'>): PostingSecrets {
  const value = s.POSTING_WEBHOOK_SECRET;
  if (!value) {
    if (s.AZURE_FUNCTIONS_ENVIRONMENT === 'Development') return { ok: true, secrets: [] };
    return {
      ok: false,
      detail: `POSTING_WEBHOOK_SECRET is not set; it is required outside Development (AZURE_FUNCTIONS_ENVIRONMENT is ${s.AZURE_FUNCTIONS_ENVIRONMENT}), without it no posting callback can be verified`,
    };
  }
  // The platform leaves the reference text in place when it cannot read the vault.
  if (/^@Microsoft\.KeyVault\(/i.test(value)) {
    return {
      ok: false,
      detail:
        'POSTING_WEBHOOK_SECRET is an unresolved Key Vault reference: the secret posting-webhook-secret is missing from the vault, or the app identity cannot read it yet',
    };
  }
  const secrets = value.split(/\s+/).filter(Boolean);
  if (!secrets.every(isSigningSecret)) {
    return {
      ok: false,
      detail: 'POSTING_WEBHOOK_SECRET: each space-separated secret must be "whsec_" followed by base64 of at least 24 bytes',
    };
  }
  return { ok: true, secrets };
}

/**
 * What is wrong with the settings, one line each, for the log at start-up:
 * nothing here stops a function from registering.
 */
export function settingsProblems(env: NodeJS.ProcessEnv = process.env): string[] {
  let s: Settings;
  try {
    s = readSettings(env);
  } catch (e) {
    return [`${(e as Error).message}; every function will fail until this is fixed`];
  }
  const posting = checkPostingSecrets(s);
  return posting.ok ? [] : [`${posting.detail}; the posting callback answers 503 until this is fixed, every other function runs`];
}

let cached: Settings | undefined;
/** The process's settings, read and validated on first use. */
export function settings(): Settings {
  return (cached ??= readSettings());
}
/** Forget the cached settings (tests and the local host change the environment). */
export function resetSettings(): void {
  cached = undefined;
}
