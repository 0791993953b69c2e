import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CoverageDeps, candidateSites, handleCoverageChange } from '../../runtime/coverage/coverage';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet } from '../support/aws-model';

/**
 * The coverage function against the AWS model: GuardDuty coverage events in the shape of
 * "Coverage status change with EventBridge notifications" and issue texts from the ECS-Fargate
 * troubleshooting table (https://docs.aws.amazon.com/guardduty/latest/ug/gdu-assess-coverage-ecs.html).
 */

let aws: AwsModel;
let fleet: FleetHandles;
let deps: CoverageDeps;

beforeEach(() => {
  aws = installAwsModel({ retries: 'off' });
  fleet = seedFleet(aws, {
    environment: 'test',
    sites: [
      { id: 'acme', cell: 'c1' },
      { id: 'vault', cell: 'c1', isolation: 'strict' },
      { id: 'other', cell: 'c2' },
    ],
  });
  deps = {
    sns: new SNSClient({}),
    ssm: new SSMClient({}),
    environment: 'test',
    opsTopicArn: fleet.opsTopicArn,
    clusterCells: new Map([
      ['bulkhead-test-c1', 'c1'],
      ['bulkhead-test-c2', 'c2'],
    ]),
  };
});
afterEach(() => aws.restore());

function coverageEvent(options: {
  cluster?: string;
  unhealthy?: boolean;
  issue?: string;
  issues?: string[];
}): Record<string, unknown> {
  return {
    version: '0',
    id: 'f0c9b9c5-0000-4000-8000-000000000001',
    'detail-type':
      options.unhealthy === false ? 'GuardDuty Runtime Protection Healthy' : 'GuardDuty Runtime Protection Unhealthy',
    source: 'aws.guardduty',
    account: '123456789012',
    time: '2026-06-01T12:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      schemaVersion: '1.0',
      resourceAccountId: '123456789012',
      currentStatus: options.unhealthy === false ? 'HEALTHY' : 'UNHEALTHY',
      previousStatus: options.unhealthy === false ? 'UNHEALTHY' : 'HEALTHY',
      resourceDetails: {
        resourceType: 'ECS',
        ecsClusterDetails: {
          clusterName: options.cluster ?? 'bulkhead-test-c1',
          fargateDetails: { issues: options.issues ?? [], managementType: 'AUTO_MANAGED' },
          containerInstanceDetails: { coveredContainerInstances: 0, compatibleContainerInstances: 0 },
        },
      },
      issue: options.issue ?? 'Agent not reporting',
      lastUpdatedAt: '2026-06-01T11:59:00Z',
    },
  };
}

describe('GuardDuty coverage changes reach the operators, naming the site', () => {
  it('names the site whose task definition the issue names, on the operators’ topic', async () => {
    // Prepare
    const event = coverageEvent({
      issues: ["Agent not reporting for tasks in TaskDefinition - 'bulkhead-test-acme:3'"],
    });
    // Act
    const result = await handleCoverageChange(deps, event);
    // Assess
    expect(result).toMatchObject({ cell: 'c1', sites: ['acme'], status: 'UNHEALTHY' });
    const [message] = aws.sns.published(fleet.opsTopicArn);
    expect(message?.Subject).toBe('Bulkhead test: runtime monitoring unhealthy for acme');
    expect(message?.Message).toContain('Sites concerned: acme');
    expect(message?.MessageAttributes?.site?.StringValue).toBe('acme');
  });

  it('names the sites whose services the issue names', async () => {
    // Prepare
    const event = coverageEvent({
      issue: 'Agent not provisioned',
      issues: [
        "Services deployed before enabling Automated Agent Configuration are not covered. Impacted service name(s): 'vault'",
      ],
    });
    // Act
    const result = await handleCoverageChange(deps, event);
    // Assess
    expect(result).toMatchObject({ sites: ['vault'] });
  });

  it('names no site another cell or no record has; a cluster-wide issue concerns every site of the cell', async () => {
    // Prepare: `other` is a site of c2; `ghost` has no record.
    const event = coverageEvent({
      issue: 'VPC Endpoint Creation Failed',
      issues: ["Agent exited for tasks in TaskDefinition - 'bulkhead-test-other:1', 'bulkhead-test-ghost:2'"],
    });
    // Act
    const result = await handleCoverageChange(deps, event);
    // Assess
    expect(result).toMatchObject({ cell: 'c1', sites: [] });
    expect(aws.sns.published(fleet.opsTopicArn)[0]?.Subject).toBe(
      'Bulkhead test: runtime monitoring unhealthy for every site of cell c1',
    );
  });

  it('says when a site is watched again', async () => {
    // Act
    const result = await handleCoverageChange(
      deps,
      coverageEvent({ unhealthy: false, issue: '', issues: ["Service 'acme' requires a new deployment"] }),
    );
    // Assess
    expect(result).toMatchObject({ status: 'HEALTHY', sites: ['acme'] });
    expect(aws.sns.published(fleet.opsTopicArn)[0]?.Message).toContain(
      'receives runtime events from these tasks again',
    );
  });

  it('ignores, changing nothing, a cluster that is not Bulkhead’s and events that are not coverage changes', async () => {
    // Act
    const foreign = await handleCoverageChange(deps, coverageEvent({ cluster: 'someone-elses' }));
    const eks = await handleCoverageChange(deps, {
      ...coverageEvent({}),
      detail: { resourceDetails: { resourceType: 'EKS', eksClusterDetails: { clusterName: 'x' } } },
    });
    const junk = await handleCoverageChange(deps, 'not an event');
    // Assess
    expect(foreign).toEqual({ ignored: "cluster someone-elses is not one of Bulkhead's test clusters" });
    expect('ignored' in eks && 'ignored' in junk).toBe(true);
    expect(aws.sns.published()).toEqual([]);
    expect(aws.mutatingCalls()).toEqual([]);
  });

  it('keeps control characters of the event out of the mail', async () => {
    // Act
    await handleCoverageChange(
      deps,
      coverageEvent({
        issues: ["Reason: \u0007evil\r\nBcc: x@example.com for tasks in TaskDefinition - 'bulkhead-test-acme:1'"],
      }),
    );
    // Assess
    const message = aws.sns.published(fleet.opsTopicArn)[0]?.Message ?? '';
    // eslint-disable-next-line no-control-regex
    expect(message).not.toMatch(/[\u0000-\u0008\r\u0007]/);
    expect(message).toContain('Reason:  evil Bcc: x@example.com');
  });
});

describe('candidate sites', () => {
  it('reads task families and ARNs of this environment only', () => {
    expect(
      candidateSites('test', [
        "TaskDefinition - 'arn:aws:ecs:eu-west-1:1:task-definition/bulkhead-test-acme-shop:12'",
        "TaskDefinition - 'bulkhead-prod-acme:1'",
        "TaskDefinition - 'bulkhead-test-x:1'",
      ]),
    ).toEqual(['acme-shop']);
  });
});
