import { z } from 'zod';

/**
 * Every app setting the product reads, validated once. A bad or missing value
 * stops start-up with a message that names the setting.
 *
 * Storage and Service Bus follow the Functions host's own connection convention:
 * either a connection string under the plain name, or identity-based settings
 * under `NAME__…` (fullyQualifiedNamespace / tableServiceUri, clientId, credential).
 */
const ncrontab = z
  .string()
  .trim()
  .refine((s) => s.split(/\s+/).length === 6, 'must be an NCRONTAB expression with six fields, seconds first');

const optionalText = z.string().trim().min(1).optional();

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
  IMPORT_SCHEDULE: ncrontab.default('0 */5 * * * *').describe('When Import from staging runs'),
  DISPATCH_SCHEDULE: ncrontab.default('30 */1 * * * *').describe('When unsent accounting updates are sent again'),
  POSTING_WEBHOOK_SECRET: optionalText
    .refine((v) => v === undefined || v.split(/\s+/).every(isSigningSecret), {
      message: 'each space-separated secret must be "whsec_" followed by base64 of at least 24 bytes',
    })
    .describe('Standard Webhooks secret(s) for the posting callback, whsec_…, space-separated while rotating'),
  TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{0,20}$|^$/, 'must be letters and digits, starting with a letter, at most 21 characters')
    .default('')
    .describe('Prefix for every table name, to run several environments in one account'),
  AZURE_FUNCTIONS_ENVIRONMENT: z.string().default('Production').describe('"Development" locally'),
  APPLICATIONINSIGHTS_CONNECTION_STRING: optionalText.describe('Application Insights, read by the Functions host'),
});

export type Settings = z.infer<typeof settingsSchema>;

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

export interface ReadOptions {
  /** The functions need the posting secret outside Development; operator tools (replay) do not. */
  requirePostingSecret?: boolean;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env, options: ReadOptions = {}): Settings {
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
  if ((options.requirePostingSecret ?? true) && !s.POSTING_WEBHOOK_SECRET && s.AZURE_FUNCTIONS_ENVIRONMENT !== 'Development') {
    throw new ConfigurationError(
      `Invalid app settings: POSTING_WEBHOOK_SECRET is required outside Development (AZURE_FUNCTIONS_ENVIRONMENT is ${s.AZURE_FUNCTIONS_ENVIRONMENT}); without it no posting callback could be verified`,
    );
  }
  return s;
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
