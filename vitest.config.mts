import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Tests that talk to moto (an AWS emulator others wrote): test/emulator, docs in test/emulator/README.md. */
const EMULATOR_TESTS = ['test/emulator/**/*.test.ts'];

/**
 * The files that take longest (seconds of test time on a 2-core machine, measured in `.ci/run`):
 * started first, so that the last minutes of a run are not one long file on one worker while
 * the other is idle (a fresh clone has no timings for vitest's own ordering).
 */
const SLOWEST_FIRST = [
  'test/faults/storm.test.ts', // ~240 s: 1,000 findings over 200 sites
  'test/emulator/response.test.ts', // ~90 s: a bundled synthesis deployed into moto
  'test/faults/workflow-faults.test.ts', // ~75 s
  'test/infra/fleet-shape.test.ts',
  'test/infra/https.test.ts',
  'test/response/burst-limits.test.ts',
  'test/infra/cell-vpc.test.ts',
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOWEST_FIRST.findIndex((slow) => f.moduleId.endsWith(slow));
      return i < 0 ? SLOWEST_FIRST.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: SlowestFirst },
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
