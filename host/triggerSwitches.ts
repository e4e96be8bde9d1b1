import type { TriggerSwitchRows } from '../shared/storage/triggerSwitches';
import { disabledSetting } from '../shared/operations/triggerSwitch';
import type { LogLine } from './invocation';

/** What a switch stops and starts: a queue pump, a Service Bus subscription, a timer. */
export interface Switchable {
  pause(): void | Promise<void>;
  resume(): void | Promise<void>;
}

/**
 * AzureWebJobs.<name>.Disabled, honoured live: the local stand-in for the app
 * settings (table localTriggerSwitches, written by pausing a flow) is read
 * about once a second, and a function switched off stops receiving or
 * skipping its schedule until it is switched on again. Functions disabled by
 * the start-up settings are not run at all (disabledFunctions.ts).
 */
export class LiveTriggerSwitches {
  private readonly off = new Set<string>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly rows: TriggerSwitchRows,
    private readonly targets: ReadonlyMap<string, Switchable[]>,
    private readonly log: LogLine,
    private readonly pollMs = 1000,
  ) {}

  /** Reads the switches once and applies what changed. */
  async refresh(): Promise<void> {
    const rows = await this.rows.read();
    for (const [name, targets] of this.targets) {
      const off = rows.get(name) === true;
      if (off === this.off.has(name)) continue;
      if (off) {
        this.off.add(name);
        for (const t of targets) await t.pause();
        this.log('information', name, `switched off by ${disabledSetting(name)}: receives nothing, runs nothing until switched on`);
      } else {
        this.off.delete(name);
        this.log('information', name, `switched on again (${disabledSetting(name)})`);
        for (const t of targets) await t.resume();
      }
    }
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollMs);
          this.wake = () => (clearTimeout(timer), resolve());
        });
        if (this.stopped) return;
        try {
          await this.refresh();
        } catch (e) {
          this.log('error', 'host', `reading the trigger switches failed: ${(e as Error).message}`);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }
}
