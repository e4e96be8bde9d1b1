/**
 * The operations alerts in infra/ (issue 14, item 7): checked as text, like the other
 * infra tests (no Bicep compiler, no Azure). Each alert must watch what its name says,
 * and reach the action group when an address is given.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stripBicepComments } from './consistency';

const root = join(__dirname, '..', '..');
const get = (rel: string) => stripBicepComments(readFileSync(join(root, rel), 'utf8'));

describe('infra/ operations alerts', () => {
  const alerts = get('infra/core/alerts.bicep');

  it('alerts on any dead-lettered message, on every queue, from the Service Bus metric', () => {
    expect(alerts).toMatch(/metricName:\s*'DeadletteredMessages'/);
    expect(alerts).toMatch(/name:\s*'EntityName'[\s\S]*?values:\s*\['\*'\]/);
    expect(alerts).toMatch(/operator:\s*'GreaterThan'\s+threshold:\s*0/);
  });

  it.each([
    ['quarantine-growing', /message has "quarantined message"/],
    ['proposal-in-error', /\^proposal \[\^ \]\+: Error/],
    ['no-successful-import', /operation_Name == "importFromStaging" and success == true/],
    ['write-back-failing', /operation_Name == "writeBackAccounting" and success == false/],
  ])("has the log alert %s over the functions' own telemetry", (name, query) => {
    const rule = alerts.slice(alerts.indexOf(`name: '${name}'`));
    expect(rule.length, name).toBeLessThan(alerts.length);
    expect(rule.slice(0, 600)).toMatch(query);
  });

  it('matches the log lines the product really writes', () => {
    const quarantine = readFileSync(join(root, 'shared/pipeline/inbound.ts'), 'utf8');
    expect(quarantine).toMatch(/`quarantined message \$\{/);
    const imports = readFileSync(join(root, 'shared/pipeline/importFromStaging.ts'), 'utf8');
    expect(imports).toMatch(/const name = `proposal \$\{legalEntity\}\/\$\{proposalId\}`/);
    expect(imports).toMatch(/log\.info\(`\$\{name\}: \$\{plan\.header\.status\}/);
  });

  it('fires after three import periods without a successful run, the period following IMPORT_SCHEDULE', () => {
    expect(alerts).toMatch(/window:\s*'PT\$\{importPeriodMinutes \* 3\}M'/);
    const main = get('infra/main.bicep');
    expect(main).toMatch(/importPeriodMinutes:\s*importPeriodMinutes/);
  });

  it('e-mails the alerts through one action group when ALERT_EMAIL is set, and only then', () => {
    expect(alerts).toMatch(/resource actionGroup 'Microsoft\.Insights\/actionGroups@[^']+' = if \(!empty\(alertEmail\)\)/);
    expect(alerts).toMatch(/useCommonAlertSchema:\s*true/);
    expect(alerts).toMatch(/actionGroups:\s*notify/);
    expect(alerts).toMatch(/actions:\s*\[for group in notify: \{ actionGroupId: group \}\]/);
    const params = JSON.parse(readFileSync(join(root, 'infra/main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: string }>;
    };
    expect(params.parameters.alertEmail?.value).toBe('${ALERT_EMAIL=}');
    expect(get('infra/main.bicep')).toMatch(/alertEmail:\s*alertEmail/);
  });
});
