/**
 * The test kit: what the benchmarks (bench/) use of the test support, and nothing else. The
 * benchmarks import this file only (ESLint refuses `bench/` imports of other test files), so a
 * change inside test/support that keeps these exports never breaks a benchmark.
 */
export { EC2_BUCKETS, ec2BucketFor } from '../support/aws-model';
export { generateFleetYaml } from '../support/fleet-generator';
export { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';
export { deliverStorm, planStorm } from '../support/storm';
export { cdkJsonContext, synthExample, synthGenerated } from '../support/synth-fleet';
