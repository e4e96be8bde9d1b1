import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../host/catalog';
import { coldStart, triggerOf, useAppSettings } from './support/functionsWorker';

const root = join(__dirname, '..');
const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
});

/** The trigger each function must register with, written from the catalog the local host runs. */
function declaredTriggers(): Record<string, unknown>[] {
  return functionDefinitions.map((d) => {
    switch (d.kind) {
      case 'serviceBus':
        return {
          function: d.name,
          type: 'serviceBusTrigger',
          queueName: d.queueName,
          connection: d.connection,
          ...(d.cardinality ? { cardinality: d.cardinality } : {}),
        };
      case 'timer':
        return { function: d.name, type: 'timerTrigger', schedule: `%${d.scheduleSetting}%` };
      case 'http':
        return { function: d.name, type: 'httpTrigger', route: d.route, methods: d.methods, authLevel: d.authLevel };
    }
  });
}

describe('Azure registration of the compiled entry points (worker stand-in: a recording @azure/functions-core)', () => {
  it('registers every function with the trigger, queue, connection, cardinality, route, methods, auth level and schedule the catalog declares', () => {
    useAppSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', AZURE_FUNCTIONS_ENVIRONMENT: 'Development' });
    const start = coldStart(root);
    expect(start.loadErrors).toEqual([]);
    expect(start.entryPoints).toHaveLength(functionDefinitions.length);
    const byName = (a: Record<string, unknown>, b: Record<string, unknown>) => String(a.function).localeCompare(String(b.function));
    expect(start.registrations.map(triggerOf).sort(byName)).toEqual(declaredTriggers().sort(byName));
    // HTTP functions answer through their return value.
    for (const r of start.registrations.filter((r) => triggerOf(r).type === 'httpTrigger')) {
      expect(r.bindings.$return, r.name).toMatchObject({ type: 'http', direction: 'out' });
    }
    expect(start.errorLog).toEqual([]);
  });

  it('reads no app setting to register: with none at all every function still registers, and the log says what is missing', () => {
    useAppSettings({});
    const start = coldStart(root);
    expect(start.loadErrors).toEqual([]);
    expect(start.registrations.map((r) => r.name).sort()).toEqual(functionDefinitions.map((d) => d.name).sort());
    expect(start.errorLog).toEqual([
      expect.stringMatching(/^CONFIGURATION ERROR: Invalid app settings: AzureWebJobsStorage .* is required; every function will fail/),
    ]);
  });
});
