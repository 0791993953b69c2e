import { afterEach, describe, expect, it } from 'vitest';
import { callConsole } from '../support/console-gateway';
import { containHandler } from '../../runtime/contain/index';
import { runWorkflowStep } from '../../runtime/incident/index';
import { recordDeployment } from '../../runtime/ledger/index';
import { runRecoveryStep } from '../../runtime/recovery/index';
import { setUpConsoleWorld } from '../console/console-world';
import type { AwsModel } from '../support/aws-model';
import { authorizeHandlerCalls } from '../support/iam-authorization/authorizer';
import { ecsFindingEvent, type ResponseWorld, setUpResponseWorld } from '../support/response-world';

/**
 * Issue 13: every call a handler makes in the model tests is evaluated against its function's
 * IAM policy from the synthesized templates (test/support/iam-authorization). These tests show
 * the check sees every response function and catches a call the policy does not allow.
 */

let aws: AwsModel | undefined;
afterEach(() => aws?.restore());

function workflowInput(world: ResponseWorld): Record<string, unknown> {
  const [execution] = world.aws.sfn.executions();
  return JSON.parse(execution?.input ?? '{}') as Record<string, unknown>;
}

describe('each call a handler makes is checked against its own function’s policy', () => {
  it('containment, the incident steps, recovery, the ledger and the console: every call checked, none denied', async () => {
    // Prepare
    const world = setUpConsoleWorld([
      { id: 'acme', cell: 'c1' },
      { id: 'vault', cell: 'c2', isolation: 'strict' },
    ]);
    aws = world.aws;
    const site = world.site('acme');
    // Act
    await containHandler(ecsFindingEvent(world, 'acme'));
    const input = workflowInput(world);
    await runWorkflowStep({ step: 'keep-evidence', input });
    await runWorkflowStep({ step: 'notify', input });
    await runRecoveryStep({ step: 'release-false-positive', input: { incidentId: input.incidentId, site: 'acme' } });
    await recordDeployment({
      'detail-type': 'ECS Deployment State Change',
      source: 'aws.ecs',
      time: new Date(world.aws.clock.now()).toISOString(),
      resources: [site.serviceArn],
      detail: { eventName: 'SERVICE_DEPLOYMENT_COMPLETED' },
    });
    await callConsole({ action: 'quarantine', site: 'vault', reason: 'IAM check' });
    await callConsole({ action: 'status' });
    const report = await world.iam?.report();
    // Assess
    expect(report?.denied).toEqual([]);
    for (const fn of ['contain', 'incident', 'recovery', 'ledger', 'console'] as const) {
      expect(report?.checked[fn], `${fn} calls checked`).toBeGreaterThan(0);
    }
  });

  it('a call the policy does not allow is reported with the action, the resource, its tags and the statements that name the action', async () => {
    // Prepare: the site's group loses the component tag the policy's condition needs.
    const world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }], { authorize: false });
    aws = world.aws;
    const iam = authorizeHandlerCalls(world, { failTest: false });
    const group = world.aws.ec2.state.securityGroups[world.site('acme').securityGroupId];
    if (group) group.Tags = group.Tags.filter((t) => t.Key !== 'bulkhead:component');
    // Act
    await containHandler(ecsFindingEvent(world, 'acme'));
    const report = await iam.report();
    // Assess
    const denial = report.denied.find((d) => d.includes(`security-group/${world.site('acme').securityGroupId}`));
    expect(denial).toMatch(/^the contain function may not ec2:(ModifySecurityGroupRules|Revoke\w+|Authorize\w+) on /);
    expect(denial).toContain('bulkhead:env=test');
    expect(denial).not.toContain('bulkhead:component=');
    expect(denial).toContain('SwapSiteSecurityGroupRules');
  });
});

describe('what the check found', () => {
  it('a finding whose task ARN names another cluster is ignored, without a DescribeTasks the policy would deny', async () => {
    // Prepare: the fuzzer's plausible-but-wrong event (test/fuzz/contain-handler.test.ts): a
    // Bulkhead cluster, but a task of another environment's cluster. The contain function may
    // describe tasks of its own clusters only (FindTheSite), so AWS would answer AccessDenied and
    // the event would be retried into the dead-letter queue instead of being ignored.
    const world = setUpResponseWorld([{ id: 'acme', cell: 'c1' }], { authorize: false });
    aws = world.aws;
    const iam = authorizeHandlerCalls(world, { failTest: false });
    const site = world.site('acme');
    const foreignTask = (site.taskArns[0] ?? '').replace('/bulkhead-test-c1/', '/bulkhead-prod-c1/');
    // Act
    const outcome = await containHandler(ecsFindingEvent(world, 'acme', { taskArn: foreignTask }));
    const report = await iam.report();
    // Assess
    expect(outcome).toMatchObject({ outcome: 'ignored', code: 'unknown-task' });
    expect(report.denied).toEqual([]);
    expect(world.aws.mutatingCalls()).toEqual([]);
  });
});
