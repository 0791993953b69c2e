import { defineConfig } from 'vitest/config';

/** Tests that talk to moto (an AWS emulator others wrote): test/emulator, docs in test/emulator/README.md. */
const EMULATOR_TESTS = ['test/emulator/**/*.test.ts'];

export default defineConfig({
  test: {
    // No `include` here: projects extend this config and arrays would be merged.
    setupFiles: [
      'test/support/node20-polyfills.ts',
      'test/support/quiet-output.ts',
      'test/support/temp-folders.ts',
      'test/support/vitest-hooks.ts',
    ],
    // Lambda code logs through Powertools; tests that read logs set their own level.
    // The SDK warns once per process that its 2027 releases need Node 22: Lambda runs
    // nodejs22.x, the tests run on this machine's Node 20 (README, "Node versions").
    env: {
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'false',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // Quiet output: test/support/quiet-output.ts (BULKHEAD_TEST_LOGS=1 shows handler logs).
    // CDK synthesis and esbuild bundling are CPU-bound; these machines have 2 cores (a synthesis
    // in a beforeAll took over 120 s once the machine ran three suites at a time).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // vitest runs `CPUs - 1` files at once by default: one at a time on these 2-core machines.
    // Two at a time: synthesis is CPU-bound, but much of the suite waits (model latency, MariaDB,
    // moto, cfn-lint), so the whole run takes far less (README, "Development").
    maxWorkers: 2,
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
