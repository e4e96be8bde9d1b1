import type { Settings } from '../config';
import type { Logger, Runtime } from '../runtime';
import { FlowPauseStore, type FlowPause } from '../storage/flowPauses';
import type { Tables } from '../storage/tables';
import { TriggerSwitchRows } from '../storage/triggerSwitches';
import { AppSettingsTriggerSwitch } from './appSettingsSwitch';
import { FLOW_NAMES, FLOWS, isFlowName, type FlowName } from './flows';
import { LocalTriggerSwitch, type TriggerSwitch } from './triggerSwitch';

/** A flow as the operations API shows it. */
export interface FlowState {
  flow: FlowName;
  label: string;
  functions: string[];
  paused: boolean;
  since: string | null;
  by: string | null;
}

/**
 * What a pause or resume did. The HTTP layer answers: 'paused'/'resumed' 200;
 * 'unknown-flow' 404 (field 'flow'); 'already-paused' and 'not-paused' 409;
 * 'switch-failed' 502 (nothing changed; `detail` says why and what to fix).
 */
export type FlowChange =
  | { outcome: 'paused' | 'resumed'; flow: FlowState }
  | { outcome: 'unknown-flow'; flow: string; detail: string }
  | { outcome: 'already-paused' | 'not-paused'; flow: FlowState; detail: string }
  | { outcome: 'switch-failed'; flow: FlowState; detail: string };

/**
 * Pauses and resumes flows (docs/operations.md, "Pause and resume"). The pause
 * is recorded first, conditionally (one row per flow, ETags), so of two
 * operators pausing at once exactly one succeeds; then the flow's functions are
 * switched off. If the switch fails, the record is put back and nothing is paused.
 * Resume switches on only what the pause switched off: a function that was
 * already off (write-back without DATAVERSE_URL) stays off.
 */
export class FlowControl {
  constructor(
    private readonly pauses: FlowPauseStore,
    private readonly switches: () => TriggerSwitch,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async flows(): Promise<FlowState[]> {
    const rows = new Map((await this.pauses.all()).map((p) => [p.flow, p]));
    return FLOW_NAMES.map((f) => stateOf(f, rows.get(f)));
  }

  async flow(name: FlowName): Promise<FlowState> {
    return stateOf(name, await this.pauses.read(name));
  }

  async isPaused(name: FlowName): Promise<boolean> {
    return (await this.pauses.read(name))?.paused === true;
  }

  async pause(name: string, by: string): Promise<FlowChange> {
    if (!isFlowName(name)) return unknown(name);
    for (;;) {
      const before = await this.pauses.read(name);
      if (before?.paused)
        return {
          outcome: 'already-paused',
          flow: stateOf(name, before),
          detail: `${name} is paused since ${before.since} by ${before.by}`,
        };
      let off: string[];
      try {
        const state = await this.switches().state(FLOWS[name].functions);
        off = FLOWS[name].functions.filter((fn) => !state[fn]);
      } catch (e) {
        return { outcome: 'switch-failed', flow: stateOf(name, before), detail: (e as Error).message };
      }
      const paused = await this.pauses.write(name, before, { paused: true, since: this.now().toISOString(), by, switchedOff: off });
      if (paused === 'changed') continue; // someone else changed it first: decide again on what they wrote
      try {
        if (off.length) await this.switches().set(Object.fromEntries(off.map((fn) => [fn, true])));
      } catch (e) {
        const undone = await this.pauses.write(name, paused, { paused: false, since: null, by: null, switchedOff: [] });
        return { outcome: 'switch-failed', flow: stateOf(name, undone === 'changed' ? paused : undone), detail: (e as Error).message };
      }
      return { outcome: 'paused', flow: stateOf(name, paused) };
    }
  }

  async resume(name: string, _by: string): Promise<FlowChange> {
    if (!isFlowName(name)) return unknown(name);
    for (;;) {
      const before = await this.pauses.read(name);
      if (!before?.paused) return { outcome: 'not-paused', flow: stateOf(name, before), detail: `${name} is not paused` };
      const resumed = await this.pauses.write(name, before, { paused: false, since: null, by: null, switchedOff: [] });
      if (resumed === 'changed') continue;
      try {
        if (before.switchedOff.length) await this.switches().set(Object.fromEntries(before.switchedOff.map((fn) => [fn, false])));
      } catch (e) {
        const { flow: _f, etag: _e, ...kept } = before;
        const restored = await this.pauses.write(name, resumed, kept);
        return { outcome: 'switch-failed', flow: stateOf(name, restored === 'changed' ? before : restored), detail: (e as Error).message };
      }
      return { outcome: 'resumed', flow: stateOf(name, resumed) };
    }
  }

  /**
   * Switches off again what a recorded pause switched off and something else switched on since: `azd
   * provision` writes every app setting as the Bicep says, and so does anyone editing them in the portal.
   * Returns the functions switched off. Reads nothing of the platform while no flow is paused. A resume
   * racing it wins: the pauses are read again after the switch's state and after the change, and what a
   * flow resumed meanwhile had switched off is switched on again.
   */
  async reapplyPauses(): Promise<string[]> {
    const paused = async () => new Map((await this.pauses.all()).filter((p) => p.paused).map((p) => [p.flow, p]));
    const before = [...(await paused()).values()].filter((p) => p.switchedOff.length);
    if (!before.length) return [];
    const state = await this.switches().state(before.flatMap((p) => p.switchedOff));
    const still = await paused();
    const undone = before.filter((p) => still.get(p.flow)?.etag === p.etag).flatMap((p) => p.switchedOff.filter((fn) => !state[fn]));
    if (!undone.length) return [];
    await this.switches().set(Object.fromEntries(undone.map((fn) => [fn, true])));
    const after = await paused();
    const resumed = before.filter((p) => !after.has(p.flow)).flatMap((p) => p.switchedOff.filter((fn) => undone.includes(fn)));
    if (resumed.length) await this.switches().set(Object.fromEntries(resumed.map((fn) => [fn, false])));
    return undone.filter((fn) => !resumed.includes(fn));
  }
}

function stateOf(flow: FlowName, row: FlowPause | undefined): FlowState {
  const paused = row?.paused === true;
  return {
    flow,
    label: FLOWS[flow].label,
    functions: [...FLOWS[flow].functions],
    paused,
    since: paused ? row!.since : null,
    by: paused ? row!.by : null,
  };
}

function unknown(name: string): FlowChange {
  return { outcome: 'unknown-flow', flow: name, detail: `no flow "${name}"; the flows are ${FLOW_NAMES.join(', ')}` };
}

/** The switch the settings ask for: OPS_TRIGGER_SWITCH, else app settings in Azure (WEBSITE_SITE_NAME set) and the local table elsewhere. */
export function triggerSwitchKind(s: Pick<Settings, 'OPS_TRIGGER_SWITCH' | 'WEBSITE_SITE_NAME'>): TriggerSwitch['kind'] {
  return s.OPS_TRIGGER_SWITCH ?? (s.WEBSITE_SITE_NAME ? 'app-settings' : 'local');
}

/**
 * Flow control over the app's tables. The switch is built on first use, so
 * reading the flows works even where the switch is misconfigured; a pause then
 * answers 'switch-failed' naming the setting.
 */
export function flowControl(
  s: Settings,
  tables: Pick<Tables, 'flowPauses' | 'localTriggerSwitches'>,
  options: { triggerSwitch?: TriggerSwitch; now?: () => Date } = {},
): FlowControl {
  let built: TriggerSwitch | undefined = options.triggerSwitch;
  const switches = () =>
    (built ??=
      triggerSwitchKind(s) === 'app-settings'
        ? AppSettingsTriggerSwitch.fromSettings(s)
        : new LocalTriggerSwitch(new TriggerSwitchRows(tables.localTriggerSwitches)));
  return new FlowControl(new FlowPauseStore(tables.flowPauses), switches, options.now);
}

/**
 * One flow control per runtime, so a process keeps the Azure switch's credential (the console asks every
 * 10 s, the sweep timer every minute); keyed by the runtime so that one the local host or a test installs
 * gets its own.
 */
const perRuntime = new WeakMap<Runtime, FlowControl>();
export function runtimeFlowControl(rt: Runtime, s: Settings): FlowControl {
  if (!perRuntime.has(rt)) perRuntime.set(rt, flowControl(s, rt.tables));
  return perRuntime.get(rt)!;
}

/** The sweep timer's housekeeping: recorded pauses applied again where the platform switched them back on; logged, never thrown. */
export async function keepPausesApplied(rt: Runtime, s: Settings, log: Logger): Promise<void> {
  try {
    const again = await runtimeFlowControl(rt, s).reapplyPauses();
    if (again.length)
      log.warn(
        `Paused functions had been switched on again (a provision writes every app setting); switched off again: ${again.join(', ')}`,
      );
  } catch (e) {
    log.error(`Could not check that paused flows stay paused: ${(e as Error).message}`);
  }
}
