import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { resetSettings, readSettings } from '../../shared/config';
import { createRuntime, useRuntime, type Runtime, type RuntimeOptions } from '../../shared/runtime';

export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from('test-signing-secret-of-32-bytes!').toString('base64')}`;

/** App settings for a test: the shared Azurite, and tables of its own (a fresh prefix). */
export function testEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AzureWebJobsStorage: inject('azuriteConnectionString'),
    TABLE_PREFIX: `t${randomBytes(5).toString('hex')}`,
    AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
    POSTING_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    ...extra,
  };
}

/**
 * A runtime over real Azurite tables, installed as the process's runtime so the
 * function handlers use it too.
 */
export async function testRuntime(options: RuntimeOptions = {}, extra: Record<string, string> = {}): Promise<Runtime> {
  const env = testEnvironment(extra);
  Object.assign(process.env, env);
  resetSettings();
  const rt = await createRuntime(readSettings(process.env), options);
  useRuntime(rt);
  return rt;
}

export const silentLog = { info: () => {}, warn: () => {}, error: () => {} };
