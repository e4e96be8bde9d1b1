import { afterEach, describe, expect, it } from 'vitest';
import { resolveAppSettingReferences } from '../../host/appSettingReferences';
import { startLocalHost, type LocalHost } from '../../host/localHost';
import { readSettings } from '../../shared/config';
import { timerScheduleExpression, type FunctionDefinition, type TimerFunction } from '../../shared/hosting/definition';
import { adminCall, until } from '../support/hostProcess';
import { testEnvironment } from '../support/runtime';

const ROOT = `${__dirname}/../..`;
const importTimer: TimerFunction = { kind: 'timer', name: 't', scheduleSetting: 'IMPORT_SCHEDULE', handler: async () => {} };

describe('timer schedules as %SETTING% binding expressions', () => {
  it('resolve from the settings, with the documented defaults when unset', () => {
    const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
    expect(timerScheduleExpression(importTimer)).toBe('%IMPORT_SCHEDULE%');
    expect(resolveAppSettingReferences('%IMPORT_SCHEDULE%', readSettings(base))).toBe('0 */5 * * * *');
    expect(resolveAppSettingReferences('%DISPATCH_SCHEDULE%', readSettings(base))).toBe('30 */1 * * * *');
    expect(resolveAppSettingReferences('%IMPORT_SCHEDULE%', readSettings({ ...base, IMPORT_SCHEDULE: '0 0 3 * * *' }))).toBe('0 0 3 * * *');
  });

  it('name the setting when it does not exist', () => {
    expect(() =>
      resolveAppSettingReferences('%PURGE_SCHEDULE%', readSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' })),
    ).toThrow('%PURGE_SCHEDULE%: app setting PURGE_SCHEDULE is not set');
  });
});

describe('local host: a bad schedule stops that timer alone', () => {
  let host: LocalHost | undefined;
  afterEach(async () => {
    await host?.stop();
  });

  it('logs the timer as not scheduled and runs everything else', async () => {
    const lines: string[] = [];
    const runs: string[] = [];
    const broken: FunctionDefinition = {
      kind: 'timer',
      name: 'brokenTimer',
      scheduleSetting: 'DISPATCH_SCHEDULE',
      handler: async () => void runs.push('broken'),
    };
    const working: FunctionDefinition = {
      kind: 'timer',
      name: 'workingTimer',
      scheduleSetting: 'IMPORT_SCHEDULE',
      handler: async () => void runs.push('working'),
    };
    const env = testEnvironment({ PORT: '0', IMPORT_SCHEDULE: '0 0 0 1 1 *', DISPATCH_SCHEDULE: 'every minute' });
    host = await startLocalHost({
      root: ROOT,
      env,
      extraFunctions: [broken, working],
      log: (level, fn, message) => lines.push(`${level} ${fn}: ${message}`),
    });
    expect(lines.filter((l) => l.startsWith('error brokenTimer: not scheduled:'))).toHaveLength(1);
    await adminCall(host.url, 'workingTimer', '');
    await until('the working timer', async () => runs.includes('working'));
    expect((await fetch(`${host.url}/api/invoice-proposals/usmf/NO-SUCH`)).status).toBe(404);
  });
});
