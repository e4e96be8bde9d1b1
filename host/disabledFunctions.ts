import type { FunctionDefinition } from '../shared/hosting/definition';
import type { LogLine } from './invocation';

/** The Functions host's switch for one function: app setting AzureWebJobs.<name>.Disabled. */
export const disabledSetting = (name: string) => `AzureWebJobs.${name}.Disabled`;

/** As the Functions host reads it: "true" (any case) or "1" disables. */
export function isDisabled(name: string, env: NodeJS.ProcessEnv): boolean {
  const value = env[disabledSetting(name)]?.trim().toLowerCase();
  return value === 'true' || value === '1';
}

/**
 * The functions the local host runs: all but those switched off with
 * AzureWebJobs.<name>.Disabled, the same setting `func start` and Azure honour,
 * so a disabled Service Bus function leaves its queue alone here too.
 */
export function enabledFunctions(functions: readonly FunctionDefinition[], env: NodeJS.ProcessEnv, log: LogLine): FunctionDefinition[] {
  return functions.filter((d) => {
    if (!isDisabled(d.name, env)) return true;
    log('information', d.name, `disabled by ${disabledSetting(d.name)}; not run`);
    return false;
  });
}
