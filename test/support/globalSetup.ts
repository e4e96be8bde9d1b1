import { execFile } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
    /** Written when `tsc -p tsconfig.build.json` ends: `ok`, or the compiler's output (see distBuilt.ts). */
    distBuildStatus: string;
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
  const dir = mkdtempSync(join(tmpdir(), 'integration-setup-'));
  const status = join(dir, 'dist-build-status');
  // In the background: the files that need dist/ wait for this status (test/support/distBuilt.ts), the others start now.
  const build = promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
  }).then(
    () => 'ok',
    (e: { stdout?: string; stderr?: string; message?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}` || String(e.message),
  );
  void build.then((outcome) => {
    writeFileSync(`${status}.tmp`, outcome);
    renameSync(`${status}.tmp`, status); // whole or not at all: a reader never sees half of it
  });
  // The worker bundle and Azurite's start-up do not depend on each other (nor on the build): at once.
  // Without the bundle (esbuild missing, say) the workers run under tsx as before: slower, the same code.
  const [bundled, azurite] = await Promise.allSettled([bundleWorker(root, dir).catch(() => ''), startAzurite()]);
  if (bundled.status === 'rejected' || azurite.status === 'rejected') {
    if (azurite.status === 'fulfilled') await azurite.value.stop();
    await build;
    throw bundled.status === 'rejected' ? bundled.reason : (azurite as PromiseRejectedResult).reason;
  }
  project.provide('azuriteConnectionString', azurite.value.connectionString);
  project.provide('reliabilityWorkerScript', bundled.value);
  project.provide('distBuildStatus', status);
  return async () => {
    await azurite.value.stop();
    const outcome = await build;
    rmSync(dir, { recursive: true, force: true });
    // Also when no test file needed dist/: a build that fails fails the run.
    if (outcome !== 'ok') throw new Error(`tsc -p tsconfig.build.json failed:\n${outcome}`);
  };
}
