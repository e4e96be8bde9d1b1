/**
 * What azd does with this repository: the preprovision check of the posting secret, no
 * build in Azure, and timer schedules that the Functions host can resolve on its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../host/catalog';
import { isSigningSecret, settingsSchema } from '../../shared/config';
import { TEST_WEBHOOK_SECRET } from '../support/runtime';
import { bicepBlock } from './consistency';

const root = join(__dirname, '..', '..');
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');
const azureYaml = read('azure.yaml');
const HOOK = 'infra/hooks/requirePostingSecret.mjs';

/** The lines of azure.yaml indented below `key:` (at the given indent). */
function yamlSection(text: string, key: string, indent: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l === `${indent}${key}:`);
  if (at === -1) return '';
  const body: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (line.trim() !== '' && !line.startsWith(`${indent} `)) break;
    body.push(line);
  }
  return body.join('\n');
}

function runHook(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POSTING_WEBHOOK_SECRET')));
  const r = spawnSync(process.execPath, [join(root, HOOK)], { cwd: root, env: { ...clean, ...env }, encoding: 'utf8' });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('azd preprovision: no environment without the posting secret', () => {
  it('runs the check on both shells before provisioning', () => {
    const hook = yamlSection(yamlSection(azureYaml, 'hooks', ''), 'preprovision', '  ');
    for (const shell of ['posix', 'windows']) {
      expect(yamlSection(hook, shell, '    '), shell).toMatch(new RegExp(`^\\s+run: node ${HOOK.replace(/\./g, '\\.')}\\s*$`, 'm'));
    }
  });

  it('stops with a message that says how to set it when it is missing', () => {
    const r = runHook({});
    expect(r.code).toBe(1);
    expect(r.output).toContain('POSTING_WEBHOOK_SECRET is not set for this azd environment');
    expect(r.output).toContain('azd env set POSTING_WEBHOOK_SECRET "whsec_');
  });

  it('lets a valid secret, or one kept in Key Vault on purpose, through', () => {
    expect(runHook({ POSTING_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET }).code).toBe(0);
    expect(runHook({ POSTING_WEBHOOK_SECRET_IN_KEY_VAULT: 'true' })).toMatchObject({
      code: 0,
      output: expect.stringContaining('kept as it is in Key Vault'),
    });
  });

  it('applies the same rule as the app, without repeating the value', () => {
    const short = `whsec_${Buffer.alloc(16, 7).toString('base64')}`;
    for (const value of ['plain-password', short, 'whsec_!!!', `${TEST_WEBHOOK_SECRET} ${short}`, `  ${TEST_WEBHOOK_SECRET}  `]) {
      const valid = value.trim().split(/\s+/).every(isSigningSecret);
      const r = runHook({ POSTING_WEBHOOK_SECRET: value });
      expect(r.code, value).toBe(valid ? 0 : 1);
      if (!valid) expect(r.output).not.toContain(value.trim());
    }
  });
});

describe('azd deploy: exactly the package npm run package built', () => {
  it('asks for no remote build', () => {
    expect(yamlSection(yamlSection(azureYaml, 'services', ''), 'api', '  ')).toMatch(/^ {4}remoteBuild: false\s*$/m);
  });

  it('has no .funcignore in the project folder that leaves node_modules out (azd refuses remoteBuild: false with one)', () => {
    const funcignore = join(root, '.funcignore');
    if (existsSync(funcignore)) expect(readFileSync(funcignore, 'utf8')).not.toMatch(/^\/?node_modules\/?\s*$/m);
    expect(yamlSection(yamlSection(azureYaml, 'services', ''), 'api', '  ')).toMatch(/^ {4}project: \.\s*$/m);
  });
});

describe('timer schedules in Azure: the host resolves %SETTING% itself and knows no defaults', () => {
  const timers = functionDefinitions.filter((d) => d.kind === 'timer');
  const main = read('infra/main.bicep');
  const parameters = JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, { value: string }> };
  const appSettings = bicepBlock(read('infra/app/function.bicep'), 'var appSettings =') ?? '';

  it.each(timers.map((t) => [t.name, t.scheduleSetting] as const))(
    '%s: the Bicep sets %s from a parameter whose default is the config default',
    (_, setting) => {
      const param = new RegExp(`^\\s*${setting}:\\s*(\\w+)\\s*$`, 'm').exec(appSettings)?.[1];
      expect(param, `function.bicep sets no ${setting} from a parameter`).toBeDefined();
      const configDefault = settingsSchema.shape[setting].parse(undefined);
      expect(main).toContain(`param ${param} string = '${configDefault}'`);
      expect(parameters.parameters[param!]?.value).toBe(`\${${setting}=${configDefault}}`);
    },
  );
});
