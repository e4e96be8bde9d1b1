/**
 * Builds the deployment package once (a clean tsc build of its own + npm ci in a temporary folder from
 * the package's own lock file + zip), checks what is in it, and starts it cold the way
 * Azure would. Slow (tens of seconds): it runs the real scripts/package.mjs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { functionDefinitions } from '../../host/catalog';
import { parseSchedule } from '../../host/ncrontab';
import { PROBLEM_BASE } from '../../shared/http/problem';
import { proposalWithActuals } from '../support/builders';
import { coldStart, triggerOf, useAppSettings } from '../support/functionsWorker';
import { postingFor, signedHeaders } from '../support/posting';
import { TEST_WEBHOOK_SECRET } from '../support/runtime';
import { invoker, runnableHere, siteAppSettings, UNRESOLVED_KEY_VAULT_REFERENCE } from './coldStart';
import { readZip, type ZipFile } from './zip';

const root = join(__dirname, '..', '..');
const zipPath = join(root, 'dist-package', 'app.zip');

/** Top-level entries allowed in the package. */
const ALLOWED = [
  /^host\.json$/,
  /^package\.json$/,
  /^package-lock\.json$/,
  /^\.funcignore$/,
  /^dist\/functions\//,
  /^dist\/shared\//,
  /^console\/[^/]+\.(html|js|css)$/,
  /^node_modules\//,
];

type Lock = {
  packages: Record<
    string,
    {
      version?: string;
      dev?: boolean;
      optional?: boolean;
      devOptional?: boolean;
      link?: boolean;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    }
  >;
};

let zip: ZipFile;
let output = '';

beforeAll(() => {
  // The global setup has just compiled dist/ from scratch with the same tsconfig: package that build.
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'package.mjs')], {
    cwd: root,
    env: { ...process.env, PACKAGE_CLEAN_BUILD: join(root, 'dist') },
    encoding: 'utf8',
    timeout: 230_000,
  });
  output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0) throw new Error(`scripts/package.mjs failed (${result.status}):\n${output}`);
  zip = readZip(zipPath);
}, 240_000);

/** Finance's signed posting callback for all of a proposal's actuals, through the registered function. */
function postSigned(run: ReturnType<typeof invoker>, proposalId: string, actuals: Parameters<typeof postingFor>[0]) {
  const body = JSON.stringify(postingFor(actuals));
  return run.http('recordPosting', {
    method: 'POST',
    path: `invoice-proposals/usmf/${proposalId}/posted`,
    params: { legalEntity: 'usmf', proposalId },
    body,
    headers: signedHeaders(body),
  });
}

describe('npm run package', () => {
  it('prints the size and the file count', () => {
    expect(output).toMatch(/dist-package[\\/]app\.zip \d+\.\d\d MB \(\d+ bytes\), \d+ files/);
    const count = Number(/(\d+) files/.exec(output)?.[1]);
    expect(count).toBe(zip.names.length);
  });

  it('contains host.json, package.json and compiled functions', () => {
    expect(zip.names).toContain('host.json');
    expect(zip.names).toContain('package.json');
    expect(zip.names.some((n) => /^dist\/functions\/[^/]+\.js$/.test(n))).toBe(true);
    expect(zip.read('host.json').toString('utf8')).toBe(readFileSync(join(root, 'host.json'), 'utf8'));
  });

  it('contains nothing but host.json, package.json, its lock file, dist/functions, dist/shared, console and node_modules', () => {
    expect(zip.names.filter((n) => !ALLOWED.some((re) => re.test(n)))).toEqual([]);
  });

  it('contains no tests and no TypeScript sources', () => {
    const own = zip.names.filter((n) => !n.startsWith('node_modules/'));
    expect(own.filter((n) => /\.[cm]?ts$/.test(n))).toEqual([]);
    expect(own.filter((n) => /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?js$/.test(n))).toEqual([]);
  });

  it('ships package.json with the functions entry point and production dependencies only', () => {
    const shipped = JSON.parse(zip.read('package.json').toString('utf8'));
    const repo = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(shipped.main).toBe(repo.main);
    expect(shipped.dependencies).toEqual(repo.dependencies);
    expect(shipped.devDependencies).toBeUndefined();
    expect(shipped.scripts).toBeUndefined();
    // "main" must find the compiled functions.
    const mainDir = posix.dirname(shipped.main as string);
    expect(zip.names.some((n) => n.startsWith(`${mainDir}/`) && n.endsWith('.js'))).toBe(true);
  });

  it('contains no dev dependencies', () => {
    for (const dev of ['vitest', 'azurite', 'typescript']) {
      expect(
        zip.names.some((n) => n.startsWith(`node_modules/${dev}/`)),
        dev,
      ).toBe(false);
    }
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lock;
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => path.startsWith('node_modules/') && p.dev)
      .map(([path]) => `${path}/`);
    expect(devOnly.filter((prefix) => zip.names.some((n) => n.startsWith(prefix)))).toEqual([]);
  });

  it('contains every production dependency of the lock file', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lock;
    const prod = Object.entries(lock.packages)
      .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && !p.optional && !p.devOptional && !p.link)
      .map(([path]) => `${path}/package.json`);
    expect(prod.length).toBeGreaterThan(0);
    expect(prod.filter((f) => !zip.names.includes(f))).toEqual([]);
  });

  it('resolves every require() of the compiled code inside the package', () => {
    const names = new Set(zip.names);
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    // Provided by the Functions host's Node worker, not by npm.
    const hostProvided = new Set(['@azure/functions-core']);
    const unresolved: string[] = [];
    for (const file of zip.names.filter((n) => /^dist\/.*\.[cm]?js$/.test(n))) {
      const code = zip.read(file).toString('utf8');
      for (const m of code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
        const spec = m[1]!;
        if (builtins.has(spec) || hostProvided.has(spec)) continue;
        if (spec.startsWith('.')) {
          const base = posix.normalize(posix.join(posix.dirname(file), spec));
          const candidates = [base, `${base}.js`, `${base}.cjs`, `${base}.json`, `${base}/index.js`];
          if (!candidates.some((c) => names.has(c))) unresolved.push(`${file}: ${spec}`);
        } else {
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!names.has(`node_modules/${pkg}/package.json`)) unresolved.push(`${file}: ${spec}`);
        }
      }
    }
    expect(unresolved).toEqual([]);
  });

  it('leaves the package folder azd deploys next to the zip, with the same files', () => {
    expect(existsSync(join(root, 'dist-package', 'app', 'host.json'))).toBe(true);
    expect(existsSync(join(root, 'dist-package', 'app', '.funcignore'))).toBe(true);
  });

  it('carries its lock file, which pins exactly the node_modules tree it ships', () => {
    const shipped = JSON.parse(zip.read('package-lock.json').toString('utf8')) as Lock;
    const manifest = JSON.parse(zip.read('package.json').toString('utf8'));
    // It agrees with the shipped package.json, so npm ci would accept it.
    expect(shipped.packages['']?.dependencies).toEqual(manifest.dependencies);
    expect(shipped.packages['']?.devDependencies).toBeUndefined();
    expect(Object.entries(shipped.packages).filter(([, p]) => p.dev)).toEqual([]);
    const packageRoot = /^node_modules\/(?:@[^/]+\/)?[^/]+(?:\/node_modules\/(?:@[^/]+\/)?[^/]+)*\/package\.json$/;
    const inZip = new Map(
      zip.names
        .filter((n) => packageRoot.test(n))
        .map((n) => [n.replace(/\/package\.json$/, ''), (JSON.parse(zip.read(n).toString('utf8')) as { version?: string }).version]),
    );
    const locked = Object.entries(shipped.packages).filter(([path]) => path.startsWith('node_modules/'));
    expect(locked.length).toBeGreaterThan(0);
    // Every locked package at its locked version (optional ones only where installed), and nothing else.
    expect(locked.filter(([path, p]) => inZip.get(path) !== p.version && !(p.optional && !inZip.has(path))).map(([path]) => path)).toEqual(
      [],
    );
    expect([...inZip.keys()].filter((path) => !shipped.packages[path])).toEqual([]);
  });

  it('writes the same zip bytes for the same files, whatever their timestamps (yazl, fixed entry time)', async () => {
    const { writeZip } = (await import(pathToFileURL(join(root, 'scripts', 'package.mjs')).href)) as {
      writeZip: (base: string, names: string[], target: string) => Promise<number>;
    };
    const app = join(root, 'dist-package', 'app');
    const names = ['host.json', 'package.json', 'dist/functions/getActual.js'];
    const tmp = mkdtempSync(join(tmpdir(), 'pii-zip-'));
    try {
      await writeZip(app, names, join(tmp, 'a.zip'));
      for (const n of names) utimesSync(join(app, n), new Date(), new Date(Date.now() - 86_400_000));
      const bytes = await writeZip(app, names, join(tmp, 'b.zip'));
      expect(readFileSync(join(tmp, 'b.zip')).equals(readFileSync(join(tmp, 'a.zip')))).toBe(true);
      expect(bytes).toBe(readFileSync(join(tmp, 'b.zip')).length);
      const again = readZip(join(tmp, 'b.zip'));
      expect(again.names).toEqual(names);
      for (const n of names) expect(again.read(n).equals(readFileSync(join(app, n))), n).toBe(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('Azure cold start of the package (worker stand-in: a recording @azure/functions-core)', () => {
  const app = join(root, 'dist-package', 'app');
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('registers every function with the settings the Bicep gives the site and the Key Vault reference unresolved', () => {
    const settings = siteAppSettings();
    expect(settings.POSTING_WEBHOOK_SECRET).toMatch(
      /^@Microsoft\.KeyVault\(SecretUri=https:\/\/kv-example\.vault\.azure\.net\/secrets\/posting-webhook-secret\)$/,
    );
    useAppSettings(settings);
    const start = coldStart(app);
    expect(start.loadErrors).toEqual([]);
    expect(start.registrations.map((r) => r.name).sort()).toEqual(functionDefinitions.map((d) => d.name).sort());
    expect(start.errorLog).toEqual([
      expect.stringMatching(
        /^CONFIGURATION ERROR: POSTING_WEBHOOK_SECRET is an unresolved Key Vault reference.*every other function runs$/,
      ),
    ]);
    // The host resolves each %SETTING% from the site's settings, with no defaults: each must be there and valid.
    const schedules = start.registrations.map(triggerOf).filter((t) => t.type === 'timerTrigger');
    expect(schedules).toHaveLength(functionDefinitions.filter((d) => d.kind === 'timer').length);
    for (const t of schedules) {
      const setting = /^%(\w+)%$/.exec(String(t.schedule))?.[1];
      expect(setting, String(t.function)).toBeDefined();
      expect(() => parseSchedule(settings[setting!] ?? '(not set)'), setting).not.toThrow();
    }
  });

  it('with the reference unresolved, answers the posting callback 503 problem+json naming the setting, and still processes a Service Bus message', async () => {
    useAppSettings(
      runnableHere({ ...siteAppSettings(), POSTING_WEBHOOK_SECRET: UNRESOLVED_KEY_VAULT_REFERENCE }, inject('azuriteConnectionString')),
    );
    const run = invoker(app, coldStart(app));
    const p = proposalWithActuals({ proposalId: 'COLD-1', lines: 1 });
    await run.deliver('syncInvoiceProposal', p.invoice, 'cold-1');
    const read = await run.http('getInvoiceProposal', {
      method: 'GET',
      path: 'invoice-proposals/usmf/COLD-1',
      params: { legalEntity: 'usmf', proposalId: 'COLD-1' },
    });
    expect(read).toMatchObject({ status: 200, body: { proposalId: 'COLD-1' } });

    const posted = await postSigned(run, 'COLD-1', p.actuals);
    expect(posted).toEqual({
      status: 503,
      contentType: 'application/problem+json',
      body: expect.objectContaining({
        type: `${PROBLEM_BASE}misconfigured`,
        status: 503,
        detail: expect.stringContaining('POSTING_WEBHOOK_SECRET is an unresolved Key Vault reference'),
      }),
    });
  });

  it("serves the operations console from the package's own console folder", async () => {
    useAppSettings(runnableHere({ ...siteAppSettings(), POSTING_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET }, inject('azuriteConnectionString')));
    const page = await invoker(app, coldStart(app)).http('getConsole', { method: 'GET', path: 'console', params: {} });
    expect(page).toMatchObject({ status: 200, contentType: 'text/html; charset=utf-8' });
    expect(page.text).toContain(`<script type="module">${zip.read('console/console.js').toString('utf8')}</script>`);
  });

  it('with the secret resolved, takes a posting callback end to end', async () => {
    useAppSettings(runnableHere({ ...siteAppSettings(), POSTING_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET }, inject('azuriteConnectionString')));
    const start = coldStart(app);
    expect(start.errorLog).toEqual([]);
    const run = invoker(app, start);
    const p = proposalWithActuals({ proposalId: 'COLD-2', lines: 2 });
    await run.deliver('syncInvoiceProposal', p.invoice, 'cold-2');
    for (const [i, a] of p.actuals.entries()) await run.deliver('syncActuals', a, `cold-2-${i}`);
    await run.tick('importFromStaging');
    const posted = await postSigned(run, 'COLD-2', p.actuals);
    expect(posted.status).toBe(200);
    const read = await run.http('getInvoiceProposal', {
      method: 'GET',
      path: 'invoice-proposals/usmf/COLD-2',
      params: { legalEntity: 'usmf', proposalId: 'COLD-2' },
    });
    expect(read.body).toMatchObject({ proposalId: 'COLD-2', status: 'Posted' });
  });
});
