import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The longest files first, longest first. Without Vitest's cache of last durations (a clean clone, CI) files
 * start largest first, which left the linters and the tiny bench, small files that run 40 s each, for last,
 * alone on a half-idle machine. The first three read nothing of dist/, so they start while it is built.
 */
const LONGEST_FIRST = [
  'test/reliability/convergence.test.ts',
  'test/reliability/crash.test.ts',
  'test/lint.test.ts',
  'test/bench.test.ts',
  'test/reliability/faults.test.ts',
  'test/deploy/package.test.ts',
  'test/reliability/hostile.test.ts',
  'test/demo.test.ts',
  'test/console.browser.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(name));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

// Two projects so the pure rules can run alone in seconds (`npm run test:unit`): the unit
// project has no global setup, because that setup compiles the app and starts Azurite,
// which only the integration tests need. `npm test` runs both.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker per core less one: a single worker on 2 cores. The integration tests
    // spend most of their time waiting on Azurite and child processes, so three at once finish far sooner.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        // The rules are pure (no module state, no I/O), so the files can share one worker and
        // load zod and the builders once: about 3 s instead of 6-8 s on a busy 2-core machine.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**'],
          globalSetup: ['test/support/globalSetup.ts'],
          // globalSetup builds dist/ in the background; this makes every file that reads it wait for the build.
          setupFiles: ['test/support/distBuilt.ts'],
        },
      },
    ],
  },
});
