import { afterEach, describe, expect, it } from 'vitest';
import { containHandler } from '../../runtime/contain/index';
import { type ResponseWorld, ecsFindingEvent, setUpResponseWorld } from '../support/response-world';

/**
 * Issue 16 item 9: taking the group's ingress away fails the load balancer's health checks;
 * after UnhealthyThresholdCount failed checks ECS replaces the task ("Task failed ELB health
 * checks"), and the evidence in it goes. Containment sheds traffic (the listener rule stops
 * forwarding, so the target is unused and never checked) no later than it changes the
 * ingress rules. Here the load balancer's API is throttled for a long while, and every AWS
 * call moves the model's clock 5 s, so the health checks and ECS's scheduler run meanwhile.
 */

let world: ResponseWorld;
afterEach(() => world?.aws.restore());

describe('containment with the load balancer throttled', () => {
  it.each([
    ['the task’s tags in the finding', true],
    ['the task looked up', false],
  ])('the contained task is kept: ingress goes only after the shed (%s)', async (_, withTaskTags) => {
    // Prepare: past the service's health check grace period, the task healthy.
    world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }], { autoAdvanceMs: 5_000 });
    world.aws.advance(5 * 60_000);
    const task = world.site('acme').taskArns[0];
    world.aws.faults.add({ service: 'ELBv2', command: 'ModifyRule', kind: 'throttle', times: 30 });

    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { withTaskTags }));
    world.aws.advance(10 * 60_000);

    // Assess
    expect(outcome).toMatchObject({ outcome: 'contained' });
    const snapshot = world.aws.snapshot('acme');
    expect(snapshot.securityGroup.ingress).toEqual([]);
    expect(snapshot.targetGroup.attached).toBe(false);
    expect(snapshot.tasks.find((t) => t.taskArn === task)).toMatchObject({ lastStatus: 'RUNNING' });
    const steps = (outcome as unknown as { steps: { step: string; at: string }[] }).steps;
    const at = (name: string) => Date.parse(steps.find((s) => s.step === name)?.at ?? '');
    expect(at('close-ingress')).toBeGreaterThanOrEqual(at('shed-traffic'));
  });
});
