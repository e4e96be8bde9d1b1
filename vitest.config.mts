import { configDefaults, defineConfig } from 'vitest/config';

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
          // Files share their workers: the SDKs load once per worker, not once per file. processState.ts puts the
          // environment, settings and installed runtime back before each file; distBuilt.ts makes every file that
          // reads dist/ (built in the background by globalSetup) wait for the build.
          isolate: false,
          setupFiles: ['test/support/processState.ts', 'test/support/distBuilt.ts'],
        },
      },
    ],
  },
});
