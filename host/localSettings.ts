import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The local host's environment, as `func start` builds it: the process
 * environment wins, then local.settings.json (yours, git-ignored), then
 * local.settings.sample.json (working local values, committed).
 */
export function loadLocalEnvironment(root: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const values = (file: string): Record<string, string> => {
    const path = join(root, file);
    if (!existsSync(path)) return {};
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { Values?: Record<string, unknown> };
    return Object.fromEntries(Object.entries(parsed.Values ?? {}).map(([k, v]) => [k, String(v)]));
  };
  const merged: NodeJS.ProcessEnv = { ...values('local.settings.sample.json'), ...values('local.settings.json'), ...env };
  // An empty value means "not set", as in the Functions host.
  for (const [k, v] of Object.entries(merged)) if (v === '') delete merged[k];
  return merged;
}

/** Settings only the local host reads. */
export const localHostSettingsSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
  LOCAL_MAX_DELIVERY_COUNT: z.coerce.number().int().min(1).max(1000).default(10),
  /** Delay before a failed local delivery is retried (Service Bus retries after the lock is abandoned). */
  LOCAL_REDELIVERY_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  LOCAL_LOCK_DURATION_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
  LOCAL_FUNCTION_KEY: z.string().min(1).optional(),
  LOCAL_DATA_DIR: z.string().default('.azurite'),
});
export type LocalHostSettings = z.infer<typeof localHostSettingsSchema>;

export function readLocalHostSettings(env: NodeJS.ProcessEnv): LocalHostSettings {
  const r = localHostSettingsSchema.safeParse(env);
  if (!r.success)
    throw new Error(`Invalid local host settings: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

export interface HostJson {
  maxConcurrentCalls: number;
  /** Messages per invocation of a function with cardinality 'many'. */
  maxMessageBatchSize: number;
  /** How long a message in hand keeps its lock (host.json's maxAutoLockRenewalDuration), in ms. */
  maxAutoLockRenewalMs: number;
}

/** A host.json TimeSpan ("hh:mm:ss"), in ms. */
function timeSpanMs(value: string): number {
  const m = /^(\d+):(\d{2}):(\d{2})$/.exec(value);
  if (!m) throw new Error(`host.json: "${value}" is not a TimeSpan like 00:05:00`);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000;
}

export function readHostJson(root: string): HostJson {
  const host = JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as {
    extensions?: { serviceBus?: { maxConcurrentCalls?: number; maxMessageBatchSize?: number; maxAutoLockRenewalDuration?: string } };
  };
  const serviceBus = host.extensions?.serviceBus;
  // The Functions host's defaults when host.json says nothing.
  return {
    maxConcurrentCalls: serviceBus?.maxConcurrentCalls ?? 16,
    maxMessageBatchSize: serviceBus?.maxMessageBatchSize ?? 1000,
    maxAutoLockRenewalMs: timeSpanMs(serviceBus?.maxAutoLockRenewalDuration ?? '00:05:00'),
  };
}
