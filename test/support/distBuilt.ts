/**
 * The compiled app (dist/) that host, registration, packaging, demo and bench tests run: globalSetup builds it in the
 * background, so the tests that never read it (the long reliability suites, lint) start during the build instead of
 * after it. Every other integration test file waits here, in a beforeAll, until the build is done.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { beforeAll, expect, inject } from 'vitest';

/** Test files that read nothing of dist/ (they run the sources, or lint them). */
const WITHOUT_DIST = new Set(['convergence.test.ts', 'crash.test.ts', 'lint.test.ts']);

export async function distBuilt(): Promise<void> {
  const status = inject('distBuildStatus');
  if (!status) return; // no globalSetup build in this run
  const deadline = Date.now() + 120_000;
  while (!existsSync(status)) {
    if (Date.now() > deadline) throw new Error('tsc -p tsconfig.build.json did not finish within 120 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const outcome = readFileSync(status, 'utf8');
  if (outcome !== 'ok') throw new Error(`tsc -p tsconfig.build.json failed:\n${outcome}`);
}

beforeAll(async () => {
  if (!WITHOUT_DIST.has(basename(expect.getState().testPath ?? ''))) await distBuilt();
}, 130_000);
