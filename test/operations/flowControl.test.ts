import { InvocationContext, type Timer } from '@azure/functions';
import { beforeEach, describe, expect, it } from 'vitest';
import sweep from '../../functions/dispatchAccountingUpdates';
import { readSettings, resetSettings, settings } from '../../shared/config';
import { flowControl, runtimeFlowControl, type FlowControl } from '../../shared/operations/flowControl';
import { useRuntime } from '../../shared/runtime';
import { TriggerSwitchError, type TriggerSwitch } from '../../shared/operations/triggerSwitch';
import { createTables, ensureTables, type Tables } from '../../shared/storage/tables';
import { TriggerSwitchRows } from '../../shared/storage/triggerSwitches';
import { dropTables, isolatedRuntime } from '../support/reliability';
import { testEnvironment } from '../support/runtime';

/** A stand-in switch that records each change, and can be told to fail like an unreachable Resource Manager. */
function recordingSwitch(initiallyOff: string[] = []) {
  const off = new Set(initiallyOff);
  const changes: Record<string, boolean>[] = [];
  let failing: string | undefined;
  const sw: TriggerSwitch = {
    kind: 'app-settings',
    state: async (fns) => Object.fromEntries(fns.map((fn) => [fn, off.has(fn)])),
    set: async (disabled) => {
      if (failing) throw new TriggerSwitchError(failing);
      changes.push({ ...disabled });
      for (const [fn, v] of Object.entries(disabled))
        if (v) off.add(fn);
        else off.delete(fn);
    },
  };
  return { sw, changes, off, fail: (why: string | undefined) => (failing = why) };
}

describe('FlowControl: pause and resume, recorded once, with clear refusals', () => {
  let tables: Tables;
  const settings = readSettings(testEnvironment());
  beforeEach(async () => {
    tables = createTables(readSettings(testEnvironment()));
    await ensureTables(tables);
  });
  const control = (sw: TriggerSwitch, at = '2026-12-01T08:00:00.000Z'): FlowControl =>
    flowControl(settings, tables, { triggerSwitch: sw, now: () => new Date(at) });

  it('pauses a flow: who and since are shown, its functions are switched off, and a second pause is refused', async () => {
    const s = recordingSwitch();
    const fc = control(s.sw);
    expect(await fc.pause('import', 'anna@contoso.example')).toEqual({
      outcome: 'paused',
      flow: {
        flow: 'import',
        label: 'Import from staging (proposal lines)',
        functions: ['importFromStaging', 'importProposal'],
        paused: true,
        since: '2026-12-01T08:00:00.000Z',
        by: 'anna@contoso.example',
      },
    });
    expect(s.changes).toEqual([{ importFromStaging: true, importProposal: true }]);
    expect(await fc.pause('import', 'ben@contoso.example')).toMatchObject({
      outcome: 'already-paused',
      detail: 'import is paused since 2026-12-01T08:00:00.000Z by anna@contoso.example',
    });
    expect(s.changes).toHaveLength(1);
    expect((await fc.flows()).map((f) => [f.flow, f.paused])).toEqual([
      ['header-sync', false],
      ['actual-sync', false],
      ['import', true],
      ['write-back', false],
    ]);
    expect(await fc.isPaused('import')).toBe(true);
  });

  it('resumes a paused flow and refuses to resume one that is not paused', async () => {
    const s = recordingSwitch();
    const fc = control(s.sw);
    expect(await fc.resume('actual-sync', 'anna')).toMatchObject({ outcome: 'not-paused', detail: 'actual-sync is not paused' });
    await fc.pause('actual-sync', 'anna');
    expect(await fc.resume('actual-sync', 'ben')).toMatchObject({ outcome: 'resumed', flow: { paused: false, since: null, by: null } });
    expect(s.changes).toEqual([{ syncActuals: true }, { syncActuals: false }]);
    expect(await fc.resume('actual-sync', 'ben')).toMatchObject({ outcome: 'not-paused' });
    expect(await fc.pause('actual-sync', 'carl')).toMatchObject({ outcome: 'paused', flow: { by: 'carl' } }); // and again
  });

  it('refuses an unknown flow by name, listing the flows, and changes nothing', async () => {
    const s = recordingSwitch();
    const fc = control(s.sw);
    for (const name of ['exports', 'Import', '__proto__'])
      expect(await fc.pause(name, 'anna')).toEqual({
        outcome: 'unknown-flow',
        flow: name,
        detail: `no flow "${name}"; the flows are header-sync, actual-sync, import, write-back`,
      });
    expect(await fc.resume('exports', 'anna')).toMatchObject({ outcome: 'unknown-flow' });
    expect(s.changes).toEqual([]);
    expect((await fc.flows()).some((f) => f.paused)).toBe(false);
  });

  it('of two operators pausing at once, exactly one pauses and the other is told who did', async () => {
    const s = recordingSwitch();
    const fc = control(s.sw);
    const results = await Promise.all([fc.pause('header-sync', 'anna'), fc.pause('header-sync', 'ben')]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['already-paused', 'paused']);
    expect(s.changes).toEqual([{ syncInvoiceProposal: true }]);
  });

  it('when the switch cannot be changed, says why and leaves the flow as it was', async () => {
    const s = recordingSwitch();
    const fc = control(s.sw);
    s.fail("the app's identity may not change the app settings (403)");
    expect(await fc.pause('write-back', 'anna')).toMatchObject({
      outcome: 'switch-failed',
      flow: { paused: false },
      detail: "the app's identity may not change the app settings (403)",
    });
    expect(await fc.isPaused('write-back')).toBe(false);

    s.fail(undefined);
    await fc.pause('write-back', 'anna');
    s.fail('Azure Resource Manager answered 503; try again');
    expect(await fc.resume('write-back', 'ben')).toMatchObject({ outcome: 'switch-failed', flow: { paused: true, by: 'anna' } });
    expect(await fc.isPaused('write-back')).toBe(true); // still paused, so the operator can resume again
  });

  it('resume switches on only what the pause switched off: a write-back disabled by configuration stays off', async () => {
    const s = recordingSwitch(['writeBackAccounting']); // no DATAVERSE_URL: off by its app setting
    const fc = control(s.sw);
    await fc.pause('write-back', 'anna');
    await fc.resume('write-back', 'anna');
    expect(s.changes).toEqual([]);
    expect(s.off.has('writeBackAccounting')).toBe(true);
  });

  it('locally, the switches are rows the local host reads: AzureWebJobs.<function>.Disabled per function', async () => {
    const fc = flowControl({ ...settings, OPS_TRIGGER_SWITCH: 'local' }, tables);
    await fc.pause('import', 'anna');
    const rows = new TriggerSwitchRows(tables.localTriggerSwitches);
    expect(Object.fromEntries(await rows.read())).toEqual({ importFromStaging: true, importProposal: true });
    await fc.resume('import', 'anna');
    expect(Object.fromEntries(await rows.read())).toEqual({ importFromStaging: false, importProposal: false });
  });

  it('in Azure without the platform variables, a pause fails naming them and nothing is paused', async () => {
    const fc = flowControl({ ...settings, OPS_TRIGGER_SWITCH: 'app-settings' }, tables);
    expect(await fc.pause('import', 'anna')).toMatchObject({
      outcome: 'switch-failed',
      detail: expect.stringMatching(/^WEBSITE_SITE_NAME, WEBSITE_RESOURCE_GROUP, WEBSITE_OWNER_NAME not set/),
    });
    expect(await fc.isPaused('import')).toBe(false);
  });

  describe('a pause the platform undid is applied again (the sweep timer checks every minute)', () => {
    it('switches off again what the pause switched off after a provision switched it on, and leaves the rest alone', async () => {
      const s = recordingSwitch(['writeBackAccounting']); // off by configuration (no DATAVERSE_URL)
      const fc = control(s.sw);
      await fc.pause('import', 'anna@contoso.example');
      await fc.pause('write-back', 'anna@contoso.example'); // switches nothing: it was off already
      s.off.clear(); // azd provision writes every app setting as the Bicep says
      expect(await fc.reapplyPauses()).toEqual(['importFromStaging', 'importProposal']);
      expect(s.changes.at(-1)).toEqual({ importFromStaging: true, importProposal: true });
      expect([...s.off].sort()).toEqual(['importFromStaging', 'importProposal']);
      expect((await fc.flows()).filter((f) => f.paused).map((f) => f.flow)).toEqual(['import', 'write-back']);
      // Applied: the next check changes nothing.
      const changes = s.changes.length;
      expect(await fc.reapplyPauses()).toEqual([]);
      expect(s.changes).toHaveLength(changes);
    });

    it('reads nothing of the platform while no flow is paused', async () => {
      const s = recordingSwitch();
      let reads = 0;
      const counting: TriggerSwitch = { ...s.sw, state: (fns) => (reads++, s.sw.state(fns)) };
      const fc = control(counting);
      expect(await fc.reapplyPauses()).toEqual([]);
      await fc.pause('header-sync', 'anna@contoso.example');
      await fc.resume('header-sync', 'anna@contoso.example');
      reads = 0;
      expect(await fc.reapplyPauses()).toEqual([]);
      expect(reads).toBe(0);
    });

    it('a resume that lands while the switch is read wins: nothing is switched off, not even for a moment', async () => {
      const s = recordingSwitch();
      const fc = control(s.sw);
      await fc.pause('import', 'anna@contoso.example');
      s.off.clear();
      const changes = s.changes.length;
      let raced = false;
      const racing: TriggerSwitch = {
        ...s.sw,
        state: async (fns) => {
          const state = await s.sw.state(fns);
          if (!raced) {
            raced = true;
            await fc.resume('import', 'ben@contoso.example'); // lands between the read of the switch and the change
          }
          return state;
        },
      };
      expect(await control(racing).reapplyPauses()).toEqual([]);
      expect(await fc.isPaused('import')).toBe(false);
      expect([...s.off]).toEqual([]);
      expect(s.changes.slice(changes)).toEqual([{ importFromStaging: false, importProposal: false }]); // the resume's own, only
    });

    it('a resume that lands while the switch is being changed wins: what it switched on is switched on again', async () => {
      const s = recordingSwitch();
      const fc = control(s.sw);
      await fc.pause('import', 'anna@contoso.example');
      s.off.clear();
      let raced = false;
      const racing: TriggerSwitch = {
        ...s.sw,
        set: async (disabled) => {
          if (!raced) {
            raced = true;
            await fc.resume('import', 'ben@contoso.example'); // its switch-on lands first, then this change
          }
          await s.sw.set(disabled);
        },
      };
      expect(await control(racing).reapplyPauses()).toEqual([]);
      expect(await fc.isPaused('import')).toBe(false);
      expect([...s.off]).toEqual([]);
    });
  });
});

describe('the outbox sweep timer keeps recorded pauses applied (functions/dispatchAccountingUpdates.ts, local switches)', () => {
  it('switches a paused flow off again after a provision switched it on, even when the sweep itself fails', async () => {
    const rt = await isolatedRuntime();
    const saved = { ...process.env };
    try {
      // Table storage failing under the sweep: the outbox cannot be read.
      const outbox = Object.assign(Object.create(rt.outbox) as typeof rt.outbox, {
        // eslint-disable-next-line require-yield -- fails before it yields anything
        entries: async function* () {
          throw new Error('storage unavailable');
        },
      });
      const broken = { ...rt, outbox };
      Object.assign(process.env, rt.env); // the function reads its settings from the environment, as in Azure
      resetSettings();
      useRuntime(broken);
      const fc = runtimeFlowControl(broken, settings());
      await fc.pause('import', 'anna@contoso.example');
      const rows = new TriggerSwitchRows(rt.tables.localTriggerSwitches);
      await rows.write({ importFromStaging: false, importProposal: false }, new Date()); // as a provision does

      const warnings: string[] = [];
      const context = new InvocationContext({
        functionName: 'dispatchAccountingUpdates',
        logHandler: (level, ...args) => void (level === 'warning' && warnings.push(args.join(' '))),
      });
      await expect(sweep.handler({ isPastDue: false } as Timer, context)).rejects.toThrow('storage unavailable');
      expect(Object.fromEntries(await rows.read())).toMatchObject({ importFromStaging: true, importProposal: true });
      expect(warnings.join('\n')).toMatch(/switched off again: importFromStaging, importProposal/);
    } finally {
      for (const name of Object.keys(rt.env)) if (saved[name] === undefined) delete process.env[name];
      Object.assign(process.env, saved);
      resetSettings();
      useRuntime(undefined);
      await dropTables(rt);
    }
  });
});
