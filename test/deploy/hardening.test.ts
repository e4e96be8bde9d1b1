/**
 * The hardening and log collection issue 12 asks of infra/: checked as text, like
 * bicep.test.ts (no Bicep compiler, no Azure).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bicepBlock, stripBicepComments } from './consistency';

const root = join(__dirname, '..', '..');
const get = (rel: string) => readFileSync(join(root, rel), 'utf8');

describe('infra/ hardening and diagnostic settings', () => {
  it('hardens the site: basic publishing credentials off for scm and ftp, TLS 1.2 at least, FTPS disabled', () => {
    const fn = stripBicepComments(get('infra/app/function.bicep'));
    for (const endpoint of ['scm', 'ftp']) {
      const policy = [...fn.matchAll(/resource\s+\w+\s+'Microsoft\.Web\/sites\/basicPublishingCredentialsPolicies@[^']+'\s*=\s*\{/g)]
        .map((m) => bicepBlock(fn.slice(m.index), m[0].replace(/\s*\{$/, '')) ?? '')
        .find((body) => new RegExp(`name:\\s*'${endpoint}'`).test(body));
      expect(policy, endpoint).toBeDefined();
      expect(policy, endpoint).toMatch(/parent:\s*site\b/);
      expect(policy, endpoint).toMatch(/allow:\s*false/);
    }
    const siteConfig = bicepBlock(bicepBlock(fn, "resource site 'Microsoft.Web/sites@2024-04-01' =") ?? '', 'siteConfig:') ?? '';
    expect(siteConfig).toMatch(/\bminTlsVersion:\s*'1\.2'/);
    expect(siteConfig).toMatch(/\bscmMinTlsVersion:\s*'1\.2'/);
    expect(siteConfig).toMatch(/\bftpsState:\s*'Disabled'/);
  });

  it.each([
    ['infra/app/function.bicep', 'site', ['FunctionAppLogs']],
    ['infra/core/servicebus.bicep', 'namespace', ['OperationalLogs', 'RuntimeAuditLogs']],
    ['infra/core/keyvault.bicep', 'vault', ['AuditEvent']],
  ])('sends the logs of %s (%s) to the Log Analytics workspace', (file, scope, categories) => {
    const source = stripBicepComments(get(file));
    const settings = [...source.matchAll(/resource\s+\w+\s+'Microsoft\.Insights\/diagnosticSettings@[^']+'\s*=/g)];
    expect(settings).toHaveLength(1);
    const body = bicepBlock(source.slice(settings[0]!.index), settings[0]![0]) ?? '';
    expect(body).toMatch(new RegExp(`scope:\\s*${scope}\\s*\n`));
    expect(body).toMatch(/workspaceId:\s*logAnalyticsWorkspaceId/);
    for (const category of categories) expect(source, category).toMatch(new RegExp(`category:\\s*'${category}'`));
    // Only log categories the resource type has; a wrong name fails the deployment.
    expect([...source.matchAll(/category:\s*'(\w+)'/g)].map((m) => m[1]).sort()).toEqual([...categories].sort());
    expect(get('infra/main.bicep')).toMatch(/logAnalyticsWorkspaceId:\s*monitoring\.outputs\.logAnalyticsWorkspaceId/);
  });

  it('asks for data-plane audit logs of Service Bus on Premium only (Standard has none)', () => {
    const sb = stripBicepComments(get('infra/core/servicebus.bicep'));
    expect(sb).toMatch(/logs:\s*sku == 'Premium' \? concat\(operationalLogs, premiumAuditLogs\) : operationalLogs/);
    expect(bicepBlock(sb, 'var premiumAuditLogs =')).toMatch(/'RuntimeAuditLogs'/);
  });
});
