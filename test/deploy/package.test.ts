/**
 * Builds the deployment package once (npm run build + npm ci --omit=dev in a temporary
 * folder + zip) and checks what is in it. Slow (tens of seconds): it runs the real
 * scripts/package.mjs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readZip, type ZipFile } from './zip';

const root = join(__dirname, '..', '..');
const zipPath = join(root, 'dist-package', 'app.zip');

/** Top-level entries allowed in the package. */
const ALLOWED = [/^host\.json$/, /^package\.json$/, /^\.funcignore$/, /^dist\/functions\//, /^dist\/shared\//, /^node_modules\//];

type Lock = { packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean; link?: boolean }> };

let zip: ZipFile;
let output = '';

beforeAll(() => {
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'package.mjs')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 230_000,
  });
  output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0) throw new Error(`scripts/package.mjs failed (${result.status}):\n${output}`);
  zip = readZip(zipPath);
}, 240_000);

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

  it('contains nothing but host.json, package.json, dist/functions, dist/shared and node_modules', () => {
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
      expect(zip.names.some((n) => n.startsWith(`node_modules/${dev}/`)), dev).toBe(false);
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
});
