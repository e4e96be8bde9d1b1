import type { FunctionDefinition } from '../shared/hosting/definition';
import { disabledSetting, isDisabledValue } from '../shared/operations/triggerSwitch';
import type { LogLine } from './invocation';

/** As the Functions host reads AzureWebJobs.<name>.Disabled: "true" (any case) or "1" disables. */
export function isDisabled(name: string, env: NodeJS.ProcessEnv): boolean {
  return isDisabledValue(env[disabledSetting(name)]);
}

/**
 * The functions the local host runs: all but those switched off at start with
 * AzureWebJobs.<name>.Disabled, the same setting `func start` and Azure honour,
 * so a disabled Service Bus function leaves its queue alone here too. Switching
 * a running function off and on is live (triggerSwitches.ts).
 */
export function enabledFunctions(functions: readonly FunctionDefinition[], env: NodeJS.ProcessEnv, log: LogLine): FunctionDefinition[] {
  return functions.filter((d) => {
    if (!isDisabled(d.name, env)) return true;
    log('information', d.name, `disabled by ${disabledSetting(d.name)}; not run`);
    return false;
  });
}
