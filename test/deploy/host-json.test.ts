import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { durationSeconds, hostJsonProblems, namesMissingFromDoc } from './consistency';

const root = join(__dirname, '..', '..');
const deployDoc = readFileSync(join(root, 'docs', 'deploy.md'), 'utf8');

function mainBicepDefault(param: string): string | undefined {
  const main = readFileSync(join(root, 'infra', 'main.bicep'), 'utf8');
  return new RegExp(`^param ${param} string = '([^']*)'`, 'm').exec(main)?.[1];
}

describe('host.json', () => {
  const raw = readFileSync(join(root, 'host.json'), 'utf8');

  it('is valid JSON', () => {
    expect(() => JSON.parse(raw)).not.toThrow();
  });

  it('has the settings docs/deploy.md documents', () => {
    expect(hostJsonProblems(JSON.parse(raw))).toEqual([]);
    expect(
      namesMissingFromDoc(deployDoc, [
        'Microsoft.Azure.Functions.ExtensionBundle',
        '[4.*, 5.0.0)',
        'maxConcurrentCalls',
        'maxAutoLockRenewalDuration',
        'autoCompleteMessages',
      ]),
    ).toEqual([]);
  });

  it('renews message locks for longer than one lock period', () => {
    const renewal = durationSeconds(JSON.parse(raw).extensions.serviceBus.maxAutoLockRenewalDuration);
    const lock = durationSeconds(mainBicepDefault('lockDuration') ?? '');
    expect(lock).toBeDefined();
    expect(renewal).toBeGreaterThan(lock!);
  });
});

describe('host.json checks catch drift', () => {
  const good = {
    version: '2.0',
    extensionBundle: { id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' },
    extensions: { serviceBus: { maxConcurrentCalls: 16, maxAutoLockRenewalDuration: '00:05:00', autoCompleteMessages: true } },
  };

  it('accepts the documented shape', () => {
    expect(hostJsonProblems(good)).toEqual([]);
  });

  it('reports a wrong bundle range and manual completion', () => {
    const drifted = {
      ...good,
      extensionBundle: { ...good.extensionBundle, version: '[3.*, 4.0.0)' },
      extensions: { serviceBus: { ...good.extensions.serviceBus, autoCompleteMessages: false } },
    };
    expect(hostJsonProblems(drifted)).toEqual([
      'extensionBundle.version must be "[4.*, 5.0.0)"',
      'extensions.serviceBus.autoCompleteMessages must be true',
    ]);
  });

  it('parses durations', () => {
    expect(durationSeconds('PT1M')).toBe(60);
    expect(durationSeconds('P14D')).toBe(14 * 86400);
    expect(durationSeconds('PT1H30M')).toBe(5400);
    expect(durationSeconds('00:05:00')).toBe(300);
    expect(durationSeconds('1.02:00:00')).toBe(93600);
    expect(durationSeconds('soon')).toBeUndefined();
  });
});
