import {
  GetDetectorCommand,
  GuardDutyClient,
  ListCoverageCommand,
  ListDetectorsCommand,
} from '@aws-sdk/client-guardduty';
import { GetAccountSummaryCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { type AccountFacts, formatDoctor, judge, readAccount } from '../../tools/cli/doctor';
import { runSiteops } from '../../tools/cli/siteops';
import { loadFleetFile, parseFleet } from '../../infra/config/load-fleet';
import { fleetQuotaWarnings } from '../../infra/config/quotas';
import { generateFleetYaml } from '../support/fleet-generator';

/**
 * Issue 12, item 8: `siteops doctor`. The judging rules against account facts, and the reading
 * against stubbed SDK answers in the shapes of the API references (GuardDuty GetDetector /
 * ListCoverage, IAM GetAccountSummary, Lambda GetAccountSettings, Service Quotas
 * ListServiceQuotas, RDS DescribeDBInstances). The AWS model (test/support/aws-model) does not
 * model these services yet.
 */

const fleet = loadFleetFile('config/example.yaml');

const HEALTHY: AccountFacts = {
  guardDuty: { runtimeMonitoring: 'ENABLED', fargateAgentManagement: 'ENABLED' },
  coverage: [
    { cluster: 'bulkhead-example-blue', status: 'HEALTHY', issues: [] },
    { cluster: 'bulkhead-example-green', status: 'HEALTHY', issues: [] },
  ],
  iamRoles: { used: 120, quota: 1000 },
  lambdaConcurrency: 1000,
  serviceQuotas: new Map([
    ['vpc/VPC security groups per Region', 2500],
    ['vpc/Subnets per VPC', 200],
    ['vpc/Network ACLs per VPC', 200],
    ['vpc/VPCs per Region', 5],
    ['vpc/Active VPC peering connections per VPC', 50],
    ['elasticloadbalancing/Certificates per Application Load Balancer', 25],
    ['sns/Topics per Account', 100000],
  ]),
  databaseClasses: ['db.r6g.large'],
};

const mocks: { restore(): void }[] = [];
afterEach(() => {
  for (const m of mocks.splice(0)) m.restore();
});

describe('siteops doctor: judging the account', () => {
  it('says OK to every item of a ready account, and nothing blocks', () => {
    // Act
    const items = judge(fleet, HEALTHY);
    const { text, blocked } = formatDoctor(items);
    // Assess
    expect(items.filter((i) => i.verdict !== 'ok')).toEqual([]);
    expect(items.map((i) => i.item)).toEqual(
      expect.arrayContaining([
        'GuardDuty Runtime Monitoring',
        'coverage of acme-shop',
        'IAM roles per account',
        'Lambda concurrent executions',
      ]),
    );
    expect(blocked).toBe(false);
    expect(text).toMatch(/Nothing blocks\.$/);
  });

  it('blocks without agent management, naming the fix', () => {
    // Act
    const items = judge(fleet, {
      ...HEALTHY,
      guardDuty: { runtimeMonitoring: 'ENABLED', fargateAgentManagement: 'DISABLED' },
    });
    // Assess
    expect(items.find((i) => i.item.startsWith('GuardDuty agent management'))).toMatchObject({
      verdict: 'block',
      detail: expect.stringContaining('enable automated agent configuration for AWS Fargate'),
    });
    expect(formatDoctor(items).blocked).toBe(true);
  });

  it('blocks the site an unhealthy coverage issue names, and only it', () => {
    // Act
    const items = judge(fleet, {
      ...HEALTHY,
      coverage: [
        {
          cluster: 'bulkhead-example-blue',
          status: 'UNHEALTHY',
          issues: ["Agent not reporting for tasks in TaskDefinition - 'bulkhead-example-bakery:4'"],
        },
        { cluster: 'bulkhead-example-green', status: 'HEALTHY', issues: [] },
      ],
    });
    // Assess
    expect(items.filter((i) => i.verdict === 'block').map((i) => i.item)).toEqual(['coverage of bakery']);
  });

  it('blocks a quota the fleet exceeds, and a new account’s low Lambda concurrency', () => {
    // Prepare: 600 sites need 1,216 roles; an account at 10 concurrent executions.
    const big = parseFleet(generateFleetYaml({ sites: 600 }), 'big.yaml');
    // Act
    const items = judge(big, { ...HEALTHY, lambdaConcurrency: 10 });
    // Assess
    expect(items.find((i) => i.item === 'IAM roles per account')).toMatchObject({
      verdict: 'block',
      detail: expect.stringContaining('the fleet needs 1216, the account allows 1000'),
    });
    expect(items.find((i) => i.item === 'Lambda concurrent executions')?.verdict).toBe('block');
    expect(items.find((i) => i.item === 'Certificates per Application Load Balancer')).toMatchObject({
      verdict: 'block',
    });
  });

  it('blocks a deployed database class too small for the fleet', () => {
    // Act
    const items = judge(fleet, { ...HEALTHY, databaseClasses: ['db.t3.small'] });
    // Assess
    expect(items.find((i) => i.item.startsWith('Aurora connections'))).toMatchObject({
      verdict: 'block',
      detail: expect.stringContaining('db.t3.small allows 45'),
    });
  });
});

describe('siteops doctor: reading the account', () => {
  it('reads GuardDuty features and coverage, IAM, Lambda, Service Quotas and RDS with read-only calls', async () => {
    // Prepare
    const gd = mockClient(GuardDutyClient);
    gd.on(ListDetectorsCommand).resolves({ DetectorIds: ['d-1'] });
    gd.on(GetDetectorCommand).resolves({
      ServiceRole: 'r',
      Status: 'ENABLED',
      Features: [
        {
          Name: 'RUNTIME_MONITORING',
          Status: 'ENABLED',
          AdditionalConfiguration: [{ Name: 'ECS_FARGATE_AGENT_MANAGEMENT', Status: 'ENABLED' }],
        },
      ],
    });
    gd.on(ListCoverageCommand).resolves({
      Resources: [
        {
          CoverageStatus: 'UNHEALTHY',
          Issue: 'Agent not reporting',
          ResourceDetails: {
            ResourceType: 'ECS',
            EcsClusterDetails: {
              ClusterName: 'bulkhead-example-green',
              FargateDetails: { Issues: ["TaskDefinition - 'bulkhead-example-clinic:2'"] },
            },
          },
        },
      ],
    });
    const iam = mockClient(IAMClient);
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { Roles: 300, RolesQuota: 1000 } });
    const lambda = mockClient(LambdaClient);
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000 } });
    const quotas = mockClient(ServiceQuotasClient);
    quotas.on(ListServiceQuotasCommand).resolves({ Quotas: [{ QuotaName: 'Subnets per VPC', Value: 200 }] });
    const rds = mockClient(RDSClient);
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBClusterIdentifier: 'bulkhead-example-0123456789ab', DBInstanceClass: 'db.r6g.large' },
        { DBClusterIdentifier: 'someone-else', DBInstanceClass: 'db.t3.small' },
      ],
    });
    mocks.push(gd, iam, lambda, quotas, rds);
    const clients = {
      guardDuty: new GuardDutyClient({ region: 'eu-west-1' }),
      iam: new IAMClient({ region: 'eu-west-1' }),
      lambda: new LambdaClient({ region: 'eu-west-1' }),
      quotas: new ServiceQuotasClient({ region: 'eu-west-1' }),
      rds: new RDSClient({ region: 'eu-west-1' }),
    };
    // Act
    const facts = await readAccount(fleet, clients);
    // Assess
    expect(facts.guardDuty).toEqual({ runtimeMonitoring: 'ENABLED', fargateAgentManagement: 'ENABLED' });
    expect(facts.coverage).toEqual([
      {
        cluster: 'bulkhead-example-green',
        status: 'UNHEALTHY',
        issues: ['Agent not reporting', "TaskDefinition - 'bulkhead-example-clinic:2'"],
      },
    ]);
    expect(gd.commandCalls(ListCoverageCommand)[0]?.args[0].input.FilterCriteria).toEqual({
      FilterCriterion: [
        {
          CriterionKey: 'ECS_CLUSTER_NAME',
          FilterCondition: { Equals: ['bulkhead-example-blue', 'bulkhead-example-green'] },
        },
      ],
    });
    expect(facts.iamRoles).toEqual({ used: 300, quota: 1000 });
    expect(facts.serviceQuotas.get('vpc/Subnets per VPC')).toBe(200);
    expect(facts.databaseClasses).toEqual(['db.r6g.large']);
  });
});

describe('siteops doctor: the command', () => {
  it('prints every item and exits 1 when something blocks', async () => {
    // Prepare
    let out = '';
    const blocked = formatDoctor(judge(fleet, { ...HEALTHY, guardDuty: undefined }));
    // Act
    const code = await runSiteops(['doctor'], {
      stdout: (t) => (out += t),
      stderr: () => undefined,
      env: {},
      doctor: async () => ({ items: [], ...blocked }),
    });
    // Assess
    expect(code).toBe(1);
    expect(out).toContain('FIX   GuardDuty: no GuardDuty detector in this region');
  });
});

describe('the fleet check warns before a deploy would hit a default quota', () => {
  it('warns for IAM roles and certificates per load balancer at 600 sites, and not for the example fleet', () => {
    // Act
    const big = fleetQuotaWarnings(parseFleet(generateFleetYaml({ sites: 600 }), 'big.yaml'));
    const example = fleetQuotaWarnings(fleet);
    // Assess
    expect(example).toEqual([]);
    expect(big.join('\n')).toMatch(/needs 1216 IAM roles per account but the default quota is 1000/);
    expect(big.join('\n')).toMatch(/needs 90 Certificates per Application Load Balancer but the default quota is 25/);
  });
});
