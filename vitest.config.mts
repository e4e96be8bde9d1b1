import { configDefaults, defineConfig } from 'vitest/config';

// Two projects so the pure rules can run alone in seconds (`npm run test:unit`): the unit
// project has no global setup, because that setup compiles the app and starts Azurite,
// which only the integration tests need. `npm test` runs both.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**'],
          globalSetup: ['test/support/globalSetup.ts'],
        },
      },
    ],
  },
});
