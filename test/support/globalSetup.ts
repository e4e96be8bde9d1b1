import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import type * as Esbuild from 'esbuild';
import { startAzurite } from '../../host/azurite';

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
    /** test/support/reliabilityWorker.ts bundled into one plain script (see bundleWorker). */
    reliabilityWorkerScript: string;
  }
}

/**
 * The reliability tests start 60-odd worker processes. Under `node --import tsx` each one spends about 1.3 s of CPU
 * loading tsx and transpiling its modules; bundled once here into one script (by esbuild, the transpiler tsx itself
 * runs, so the code is the same) each start costs about 0.4 s: a minute of CPU less on a 2-core machine.
 */
async function bundleWorker(root: string, outdir: string): Promise<string> {
  const outfile = join(outdir, 'reliabilityWorker.js');
  // esbuild comes with tsx (its dependency), so it is always installed beside it.
  const { build } = (await import('esbuild')) as typeof Esbuild;
  await build({
    entryPoints: [join(root, 'test', 'support', 'reliabilityWorker.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/** One in-memory Azurite for the whole run; each test file isolates itself with a table prefix. */
export default async function setup(project: TestProject) {
  // Host tests run the compiled app, exactly what `npm start` runs.
  const root = join(__dirname, '..', '..');
  // From scratch: an incremental build keeps the output of a deleted or renamed module, which would still register.
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const workerDir = mkdtempSync(join(tmpdir(), 'reliability-worker-'));
  // The build, the worker bundle and Azurite's start-up do not depend on each other: at once, not one after another.
  const started = await Promise.allSettled([
    promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
      cwd: root,
    }).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`tsc -p tsconfig.build.json failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }),
    bundleWorker(root, workerDir),
    startAzurite(),
  ] as const);
  const [built, bundled, azurite] = started;
  if (built.status === 'rejected' || bundled.status === 'rejected' || azurite.status === 'rejected') {
    if (azurite.status === 'fulfilled') await azurite.value.stop();
    throw [built, bundled, azurite].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))[0];
  }
  const worker = bundled.value;
  project.provide('azuriteConnectionString', azurite.value.connectionString);
  project.provide('reliabilityWorkerScript', worker);
  return async () => {
    await azurite.value.stop();
    rmSync(workerDir, { recursive: true, force: true });
  };
}
