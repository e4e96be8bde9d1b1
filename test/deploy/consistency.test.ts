import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../host/catalog';
import { settingsSchema } from '../../shared/config';
import { QUEUES } from '../../shared/queues';
import {
  bicepAppSettingNames,
  bicepQueueNames,
  flexDeprecatedSettings,
  HOST_LEVEL_SETTINGS,
  namesMissingFromDoc,
  NOT_SET_BY_BICEP,
  queuesMissingFromBicep,
  queuesUnknownToCode,
  schemaSettingsMissingFromBicep,
  serviceBusConnectionSettingsMissing,
  timerSettingsMissingFromBicep,
  unknownAppSettings,
  type DefinitionLike,
} from './consistency';

const root = join(__dirname, '..', '..');
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');

const serviceBusBicep = read('infra/core/servicebus.bicep');
const functionBicep = read('infra/app/function.bicep');
const deployDoc = read('docs/deploy.md');
const schemaKeys = Object.keys(settingsSchema.shape);
const queueConstants = Object.values(QUEUES);
const definitions: readonly DefinitionLike[] = functionDefinitions;

describe('deployment consistency: the real files', () => {
  it('finds the queues and app settings in the Bicep at all (the parser still matches the files)', () => {
    expect(bicepQueueNames(serviceBusBicep).length).toBeGreaterThanOrEqual(3);
    expect(bicepAppSettingNames(functionBicep)).toContain('IMPORT_SCHEDULE');
  });

  it('has Service Bus function registrations to check', () => {
    expect(definitions.filter((d) => d.kind === 'serviceBus').length).toBeGreaterThan(0);
  });

  it('creates every queue a function is triggered by and every queue in QUEUES', () => {
    expect(queuesMissingFromBicep(serviceBusBicep, definitions, queueConstants)).toEqual([]);
  });

  it('creates no queue the code does not know', () => {
    expect(queuesUnknownToCode(serviceBusBicep, queueConstants)).toEqual([]);
  });

  it('sets no app setting unknown to the config schema, except listed host-level ones', () => {
    expect(unknownAppSettings(functionBicep, schemaKeys)).toEqual([]);
  });

  it('sets every schema setting, or says in docs/deploy.md why not', () => {
    expect(schemaSettingsMissingFromBicep(functionBicep, schemaKeys)).toEqual([]);
    expect(namesMissingFromDoc(deployDoc, Object.keys(NOT_SET_BY_BICEP))).toEqual([]);
  });

  it('lists only real exceptions: deliberately unset names are schema keys, host-level names are not', () => {
    expect(Object.keys(NOT_SET_BY_BICEP).filter((k) => !schemaKeys.includes(k))).toEqual([]);
    expect(Object.keys(HOST_LEVEL_SETTINGS).filter((k) => schemaKeys.includes(k))).toEqual([]);
    expect(Object.keys(HOST_LEVEL_SETTINGS).filter((k) => !bicepAppSettingNames(functionBicep).includes(k))).toEqual([]);
  });

  it('sets the schedule setting of every timer function', () => {
    expect(timerSettingsMissingFromBicep(functionBicep, definitions)).toEqual([]);
  });

  it('sets the identity-based connection of every Service Bus function', () => {
    expect(serviceBusConnectionSettingsMissing(functionBicep, definitions)).toEqual([]);
  });

  it('sets none of the app settings Flex Consumption deprecates', () => {
    expect(flexDeprecatedSettings(functionBicep)).toEqual([]);
  });

  it('documents every app setting the Bicep sets', () => {
    expect(namesMissingFromDoc(deployDoc, bicepAppSettingNames(functionBicep))).toEqual([]);
  });
});

describe('deployment consistency: a drifted copy is caught', () => {
  it('reports a queue renamed in the Bicep', () => {
    const drifted = serviceBusBicep.replace("name: 'project-actuals'", "name: 'project-actual'");
    expect(drifted).not.toBe(serviceBusBicep);
    expect(queuesMissingFromBicep(drifted, definitions, queueConstants)).toEqual(['project-actuals']);
    expect(queuesUnknownToCode(drifted, queueConstants)).toEqual(['project-actual']);
  });

  it('reports a queue renamed in a function registration', () => {
    const drifted: DefinitionLike[] = [
      ...definitions,
      { kind: 'serviceBus', name: 'syncActualsRenamed', queueName: 'project-actuals-v2', connection: 'ServiceBusConnection' },
    ];
    expect(queuesMissingFromBicep(serviceBusBicep, drifted, queueConstants)).toEqual(['project-actuals-v2']);
  });

  it('reports a queue added to QUEUES but not to the Bicep', () => {
    expect(queuesMissingFromBicep(serviceBusBicep, definitions, [...queueConstants, 'project-contracts'])).toEqual(['project-contracts']);
  });

  it('reports an app setting renamed in the Bicep, both ways', () => {
    const drifted = functionBicep.replace('IMPORT_SCHEDULE:', 'IMPORT_SCHEDULES:');
    expect(drifted).not.toBe(functionBicep);
    expect(unknownAppSettings(drifted, schemaKeys)).toEqual(['IMPORT_SCHEDULES']);
    expect(schemaSettingsMissingFromBicep(drifted, schemaKeys)).toEqual(['IMPORT_SCHEDULE']);
  });

  it('reports a setting renamed in the config schema', () => {
    const driftedKeys = schemaKeys.map((k) => (k === 'POSTING_WEBHOOK_SECRET' ? 'POSTING_WEBHOOK_SECRETS' : k));
    expect(unknownAppSettings(functionBicep, driftedKeys)).toEqual(['POSTING_WEBHOOK_SECRET']);
    expect(schemaSettingsMissingFromBicep(functionBicep, driftedKeys)).toEqual(['POSTING_WEBHOOK_SECRETS']);
  });

  it('reports a timer whose schedule setting the Bicep does not set', () => {
    const drifted: DefinitionLike[] = [{ kind: 'timer', name: 'purgeQuarantine', scheduleSetting: 'PURGE_SCHEDULE' }];
    expect(timerSettingsMissingFromBicep(functionBicep, drifted)).toEqual(['PURGE_SCHEDULE']);
  });

  it('reports a Service Bus connection the Bicep does not configure', () => {
    const drifted: DefinitionLike[] = [{ kind: 'serviceBus', name: 'x', queueName: 'project-actuals', connection: 'OtherBus' }];
    expect(serviceBusConnectionSettingsMissing(functionBicep, drifted)).toEqual([
      'OtherBus__fullyQualifiedNamespace',
      'OtherBus__credential',
      'OtherBus__clientId',
    ]);
  });

  it('reports a Flex-deprecated setting added to the Bicep', () => {
    const drifted = functionBicep.replace('var appSettings = {', "var appSettings = {\n  FUNCTIONS_WORKER_RUNTIME: 'node'");
    expect(flexDeprecatedSettings(drifted)).toEqual(['FUNCTIONS_WORKER_RUNTIME']);
    expect(unknownAppSettings(drifted, schemaKeys)).toEqual(['FUNCTIONS_WORKER_RUNTIME']);
  });
});

describe('Bicep text parsing', () => {
  it('ignores comments, nested objects and braces inside strings', () => {
    const bicep = [
      'var other = { NOT_THIS: 1 }',
      'var appSettings = {',
      '  // COMMENTED_OUT: 1',
      "  A: 'x${y}z'",
      "  'B_QUOTED': '{not a key: 1}'",
      '  C: {',
      '    NESTED: true',
      '  }',
      '  /* D: 1 */ E: [',
      '    1',
      '  ]',
      '}',
      'var after = { NOR_THIS: 1 }',
    ].join('\n');
    expect(bicepAppSettingNames(bicep)).toEqual(['A', 'B_QUOTED', 'C', 'E']);
  });

  it('reads queue names from the serviceBusQueues array only', () => {
    const bicep = [
      "param name string = 'not-a-queue'",
      'var serviceBusQueues = [',
      "  { name: 'a' } // name: 'commented'",
      '  {',
      "    name: 'b'",
      '  }',
      ']',
      "resource x 'T@1' = { name: 'c' }",
    ].join('\n');
    expect(bicepQueueNames(bicep)).toEqual(['a', 'b']);
  });
});
