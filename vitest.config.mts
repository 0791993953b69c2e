import { defineConfig } from 'vitest/config';

/** Tests that talk to moto (an AWS emulator others wrote): test/emulator, docs in test/emulator/README.md. */
const EMULATOR_TESTS = ['test/emulator/**/*.test.ts'];

export default defineConfig({
  test: {
    // No `include` here: projects extend this config and arrays would be merged.
    setupFiles: ['test/support/node20-polyfills.ts'],
    // Lambda code logs through Powertools; tests that read logs set their own level.
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'false' },
    // CDK synthesis and esbuild bundling are CPU-bound; these machines have 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: EMULATOR_TESTS } },
      // Its globalSetup runs only when one of its files is in the run: finds moto through
      // BULKHEAD_MOTO_ENDPOINT, or starts moto_server on a free port and stops it by pid.
      {
        extends: true,
        test: { name: 'moto', include: EMULATOR_TESTS, globalSetup: ['test/support/moto/global-setup.ts'] },
      },
    ],
  },
});
