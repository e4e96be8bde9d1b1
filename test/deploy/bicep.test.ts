/**
 * Static checks of infra/ that need no Azure and no Bicep compiler: module wiring,
 * parameter descriptions, API versions, the security properties the issue asks for,
 * role assignments, and the azd files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bicepBlock, stripBicepComments } from './consistency';

const root = join(__dirname, '..', '..');
const infra = join(root, 'infra');

function bicepFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? bicepFiles(join(dir, e.name)) : e.name.endsWith('.bicep') ? [join(dir, e.name)] : [],
  );
}

const files = bicepFiles(infra);
const text = new Map(files.map((f) => [relative(root, f).split('\\').join('/'), readFileSync(f, 'utf8')]));
const all = [...text.values()].join('\n');
const get = (rel: string) => {
  const t = text.get(rel);
  if (t === undefined) throw new Error(`missing ${rel}`);
  return t;
};

/** Resource API versions in use, each checked against the published Bicep/ARM reference. */
const API_VERSIONS: Record<string, string> = {
  'Microsoft.Resources/resourceGroups': '2024-03-01',
  'Microsoft.ManagedIdentity/userAssignedIdentities': '2023-01-31',
  'Microsoft.OperationalInsights/workspaces': '2023-09-01',
  'Microsoft.Insights/components': '2020-02-02',
  'Microsoft.Storage/storageAccounts': '2024-01-01',
  'Microsoft.Storage/storageAccounts/blobServices': '2024-01-01',
  'Microsoft.Storage/storageAccounts/blobServices/containers': '2024-01-01',
  'Microsoft.ServiceBus/namespaces': '2024-01-01',
  'Microsoft.ServiceBus/namespaces/queues': '2024-01-01',
  'Microsoft.ServiceBus/namespaces/queues/authorizationRules': '2024-01-01',
  'Microsoft.KeyVault/vaults': '2023-07-01',
  'Microsoft.KeyVault/vaults/secrets': '2023-07-01',
  'Microsoft.Web/serverfarms': '2024-04-01',
  'Microsoft.Web/sites': '2024-04-01',
  'Microsoft.Web/sites/config': '2024-04-01',
  'Microsoft.Web/sites/basicPublishingCredentialsPolicies': '2024-04-01',
  'Microsoft.Insights/diagnosticSettings': '2021-05-01-preview',
  'Microsoft.Insights/actionGroups': '2023-01-01',
  'Microsoft.Insights/metricAlerts': '2018-03-01',
  'Microsoft.Insights/scheduledQueryRules': '2021-08-01',
  'Microsoft.Authorization/roleAssignments': '2022-04-01',
};

/** Built-in role definition ids (the same in every tenant). */
const ROLES: Record<string, string> = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Website Contributor': 'de139f84-1756-47ae-9be6-808fbbe84772',
};

type Param = { name: string; hasDefault: boolean; decorators: string };

function params(bicep: string): Param[] {
  const lines = bicep.split('\n');
  const out: Param[] = [];
  lines.forEach((line, i) => {
    const m = /^param\s+(\w+)\s+\w+(\s*=.*)?$/.exec(line.trim());
    if (!m) return;
    const decorators: string[] = [];
    for (let j = i - 1; j >= 0; j--) {
      const l = lines[j]!.trim();
      if (l === '' || /^(param|var|resource|module|output|targetScope|type|func)\s/.test(l) || l.startsWith('//')) break;
      decorators.unshift(l);
    }
    out.push({ name: m[1]!, hasDefault: m[2] !== undefined, decorators: decorators.join('\n') });
  });
  return out;
}

function outputs(bicep: string): string[] {
  return [...bicep.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1]!);
}

/** Top-level keys of an object literal body. */
function keys(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  for (const line of body.split('\n')) {
    if (depth === 0) {
      const m = /^\s*(\w+)\s*:/.exec(line);
      if (m) out.push(m[1]!);
    }
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (ch === "'") {
        const close = line.indexOf("'", i + 1);
        i = close === -1 ? line.length : close;
      } else if ('{[('.includes(ch!)) depth++;
      else if ('}])'.includes(ch!)) depth--;
    }
  }
  return out;
}

type ModuleUse = { file: string; symbol: string; path: string; passed: string[] };

function moduleUses(file: string, bicep: string): ModuleUse[] {
  const source = stripBicepComments(bicep);
  return [...source.matchAll(/^module\s+(\w+)\s+'([^']+)'\s*=/gm)].map((m) => {
    const body = bicepBlock(source.slice(m.index), `module ${m[1]} '${m[2]}' =`) ?? '';
    const paramsBody = bicepBlock(body, 'params:') ?? '';
    return { file, symbol: m[1]!, path: m[2]!, passed: keys(paramsBody) };
  });
}

describe('infra/ Bicep', () => {
  it('has the expected files', () => {
    for (const rel of [
      'infra/main.bicep',
      'infra/app/identity.bicep',
      'infra/app/function.bicep',
      'infra/core/monitoring.bicep',
      'infra/core/storage.bicep',
      'infra/core/servicebus.bicep',
      'infra/core/keyvault.bicep',
    ]) {
      expect(text.has(rel), rel).toBe(true);
    }
  });

  it('describes every parameter', () => {
    const undescribed = [...text].flatMap(([file, bicep]) =>
      params(bicep)
        .filter((p) => !p.decorators.includes('@description('))
        .map((p) => `${file}: ${p.name}`),
    );
    expect(undescribed).toEqual([]);
  });

  it('wires every module with parameters it declares, all required ones, and outputs it has', () => {
    const problems: string[] = [];
    for (const [file, bicep] of text) {
      for (const use of moduleUses(file, bicep)) {
        const target = join(dirname(join(root, file)), use.path);
        const targetRel = relative(root, target).split('\\').join('/');
        const targetText = text.get(targetRel);
        if (targetText === undefined) {
          problems.push(`${file}: module ${use.symbol} -> ${use.path} does not exist`);
          continue;
        }
        const declared = params(targetText);
        for (const p of use.passed) {
          if (!declared.some((d) => d.name === p)) problems.push(`${file}: ${use.symbol} passes unknown param ${p}`);
        }
        for (const d of declared) {
          if (!d.hasDefault && !use.passed.includes(d.name)) problems.push(`${file}: ${use.symbol} misses param ${d.name}`);
        }
        const outs = outputs(targetText);
        for (const m of bicep.matchAll(new RegExp(`\\b${use.symbol}\\.outputs\\.(\\w+)`, 'g'))) {
          if (!outs.includes(m[1]!)) problems.push(`${file}: ${use.symbol}.outputs.${m[1]} is not an output of ${use.path}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('uses the checked API version of every resource type', () => {
    const used = [...stripBicepComments(all).matchAll(/'([A-Za-z]+\.[A-Za-z]+\/[A-Za-z/]+)@([0-9-]+(?:-preview)?)'/g)];
    expect(used.length).toBeGreaterThan(10);
    const wrong = used.filter(([, type, version]) => API_VERSIONS[type!] !== version).map((m) => m[0]);
    expect(wrong).toEqual([]);
  });

  it('balances brackets in every file', () => {
    for (const [file, bicep] of text) {
      const source = stripBicepComments(bicep).replace(/'(?:\\.|[^'\\])*'/g, "''");
      const count = (re: RegExp) => (source.match(re) ?? []).length;
      expect([count(/\{/g), count(/\[/g), count(/\(/g)], file).toEqual([count(/\}/g), count(/\]/g), count(/\)/g)]);
    }
  });

  it('locks the storage account down as the issue asks', () => {
    const storage = stripBicepComments(get('infra/core/storage.bicep'));
    expect(storage).toMatch(/allowSharedKeyAccess:\s*false/);
    expect(storage).toMatch(/minimumTlsVersion:\s*'TLS1_2'/);
    expect(storage).toMatch(/allowBlobPublicAccess:\s*false/);
    expect(storage).toMatch(/supportsHttpsTrafficOnly:\s*true/);
  });

  it('creates queues with duplicate detection, dead-lettering and parameterised delivery settings', () => {
    const sb = stripBicepComments(get('infra/core/servicebus.bicep'));
    expect(sb).toMatch(/requiresDuplicateDetection:\s*true/);
    expect(sb).toMatch(/duplicateDetectionHistoryTimeWindow:\s*duplicateDetectionHistoryTimeWindow/);
    expect(sb).toMatch(/maxDeliveryCount:\s*maxDeliveryCount/);
    expect(sb).toMatch(/lockDuration:\s*lockDuration/);
    expect(sb).toMatch(/deadLetteringOnMessageExpiration:\s*true/);
    expect(sb).toMatch(/disableLocalAuth:\s*!allowSasForDataverse/);
    const main = get('infra/main.bicep');
    expect(main).toMatch(/param serviceBusSku string = 'Standard'/);
    expect(main).toMatch(/param allowServiceBusSasForDataverse bool = false/);
  });

  it('runs a Flex Consumption app on Node 22 with the user-assigned identity', () => {
    const fn = stripBicepComments(get('infra/app/function.bicep'));
    expect(fn).toMatch(/tier:\s*'FlexConsumption'/);
    expect(fn).toMatch(/name:\s*'FC1'/);
    expect(fn).toMatch(/runtime:\s*\{\s*name:\s*'node'\s*version:\s*'22'\s*\}/);
    expect(fn).toMatch(/type:\s*'UserAssigned'/);
    expect(fn).toMatch(/keyVaultReferenceIdentity:\s*identityId/);
    expect(fn).toMatch(/type:\s*'UserAssignedIdentity'/);
    expect(fn).toMatch(/'azd-service-name':\s*serviceName/);
    expect(fn).toMatch(/POSTING_WEBHOOK_SECRET:\s*'@Microsoft\.KeyVault\(SecretUri=\$\{postingWebhookSecretUri\}\)'/);
    expect(fn).toMatch(/AzureWebJobsStorage__credential:\s*'managedidentity'/);
    expect(fn).toMatch(/ServiceBusConnection__credential:\s*'managedidentity'/);
    expect(fn).toMatch(/AZURE_FUNCTIONS_ENVIRONMENT:\s*'Production'/);
    expect(fn).toMatch(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING:\s*'ClientId=\$\{identityClientId\};Authorization=AAD'/);
  });

  it('keeps the Key Vault on RBAC with the webhook secret', () => {
    const kv = stripBicepComments(get('infra/core/keyvault.bicep'));
    expect(kv).toMatch(/enableRbacAuthorization:\s*true/);
    expect(kv).toMatch(/var postingWebhookSecretName = 'posting-webhook-secret'/);
    expect(get('infra/core/keyvault.bicep')).toMatch(/@secure\(\)\s*\n[^\n]*\n?param postingWebhookSecret string/);
    expect(get('infra/main.bicep')).toMatch(/@secure\(\)\s*\n[^\n]*\n?param postingWebhookSecret string/);
  });

  it('assigns only the listed built-in roles, each scoped to a resource, never the group or subscription', () => {
    const source = stripBicepComments(all);
    const guids = new Set([...source.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g)].map((m) => m[1]));
    expect([...guids].sort()).toEqual(Object.values(ROLES).sort());

    const assignments = [...source.matchAll(/resource\s+(\w+)\s+'Microsoft\.Authorization\/roleAssignments@[^']+'\s*=/g)];
    expect(assignments.length).toBe(8);
    for (const a of assignments) {
      const body = bicepBlock(source.slice(a.index), a[0]) ?? '';
      const scope = /\bscope:\s*([\w[\]]+)/.exec(body)?.[1];
      expect(body, a[1]).not.toBe('');
      expect(scope, a[1]).toBeDefined();
      expect(['resourceGroup()', 'subscription()', 'rg'], a[1]).not.toContain(scope);
      expect(body, a[1]).toMatch(/principalType:\s*'ServicePrincipal'/);
    }
  });

  it('sets the outputs azd needs', () => {
    const outs = outputs(get('infra/main.bicep'));
    for (const o of ['AZURE_LOCATION', 'AZURE_TENANT_ID', 'AZURE_FUNCTION_NAME', 'SERVICE_API_NAME', 'AZURE_RESOURCE_GROUP']) {
      expect(outs).toContain(o);
    }
  });
});

describe('azd files', () => {
  it('maps main.parameters.json to parameters main.bicep declares, with azd environment variables', () => {
    const file = JSON.parse(readFileSync(join(infra, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: unknown }>;
    };
    const declared = params(get('infra/main.bicep'));
    for (const name of Object.keys(file.parameters))
      expect(
        declared.map((d) => d.name),
        name,
      ).toContain(name);
    for (const d of declared.filter((p) => !p.hasDefault)) expect(Object.keys(file.parameters), d.name).toContain(d.name);
    expect(file.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(file.parameters.location?.value).toBe('${AZURE_LOCATION}');
  });

  it('declares the api service as a TypeScript function app packaged by npm run package', () => {
    const yaml = readFileSync(join(root, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(/^services:\s*\n\s+api:/m);
    expect(yaml).toMatch(/^\s+host:\s*function\s*$/m);
    expect(yaml).toMatch(/^\s+language:\s*(ts|js)\s*$/m);
    expect(yaml).toMatch(/^\s+dist:\s*dist-package\/app\s*$/m);
    expect(yaml).toMatch(/run:\s*node scripts\/package\.mjs/);
    expect(existsSync(join(root, 'scripts', 'package.mjs'))).toBe(true);
  });
});
