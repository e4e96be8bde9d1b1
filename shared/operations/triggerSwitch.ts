import type { TriggerSwitchRows } from '../storage/triggerSwitches';

/** The Functions host's switch for one function, in Azure and locally. */
export const disabledSetting = (fn: string) => `AzureWebJobs.${fn}.Disabled`;

/** As the Functions host reads the setting: "true" (any case) or "1" switches the function off. */
export function isDisabledValue(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v === 'true' || v === '1';
}

/**
 * Switches functions off and on the way Azure does: the app setting
 * AzureWebJobs.<function>.Disabled. A switched-off Service Bus function stops
 * receiving (its messages stay in the queue); a switched-off timer does not run.
 */
export interface TriggerSwitch {
  readonly kind: 'app-settings' | 'local';
  /** Whether each function is switched off now. */
  state(functions: readonly string[]): Promise<Record<string, boolean>>;
  /** Sets AzureWebJobs.<function>.Disabled for each function given (true = off), as one change. */
  set(disabled: Readonly<Record<string, boolean>>): Promise<void>;
}

/** A switch that could not be changed or read, with what to do about it. */
export class TriggerSwitchError extends Error {
  override name = 'TriggerSwitchError';
}

/**
 * The local host's switch: rows in table localTriggerSwitches, which the host
 * reads about once a second. A function without a row is as its start-up
 * setting says (local.settings.json or the environment).
 */
export class LocalTriggerSwitch implements TriggerSwitch {
  readonly kind = 'local';
  constructor(
    private readonly rows: TriggerSwitchRows,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async state(functions: readonly string[]): Promise<Record<string, boolean>> {
    const rows = await this.rows.read();
    return Object.fromEntries(functions.map((fn) => [fn, rows.get(fn) ?? isDisabledValue(this.env[disabledSetting(fn)])]));
  }

  set(disabled: Readonly<Record<string, boolean>>): Promise<void> {
    return this.rows.write(disabled, this.now());
  }
}
