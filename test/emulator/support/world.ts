import { randomInt } from 'node:crypto';
import {
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupRulesCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetRolePolicyCommand, ListRolePoliciesCommand, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { FleetConfig } from '../../../infra/config/load-fleet';
import { type SiteRecord, siteRecordParameterName } from '../../../contracts/site-record';
import type { SynthesizedFleet } from '../../support/synth-fleet';
import { readAssembly } from './assembly';
import { type MotoClients, motoClients, requestCertificate } from './clients';
import { type DeployedWorld, deployAssembly, type EmulatedFunction } from './deploy';
import { type Invocation, type InvokeOptions, invokeFunction } from './lambda-runtime';

/**
 * An emulator world: the synthesized fleet deployed into moto, in an account of its own (so
 * tests and test files share one moto server without resetting it under each other), with
 * the bundled functions runnable against it.
 */
export interface EmulatorWorld {
  readonly endpoint: string;
  readonly aws: MotoClients;
  readonly fleet: FleetConfig;
  readonly deployed: DeployedWorld;
  readonly environment: string;
  record(site: string): Promise<SiteRecord>;
  invoke(fn: EmulatedFunction, event: unknown, options?: InvokeOptions): Promise<Invocation>;
}

/** A fresh 12-digit account id for one world. */
function newAccount(): string {
  return `4${String(randomInt(0, 10 ** 11)).padStart(11, '0')}`;
}

/**
 * moto moves an ECS task one state further on every read (RUNNING, DEACTIVATING, STOPPING, ...)
 * unless told otherwise; a running Fargate task of a service stays RUNNING until something
 * stops it. Pinned for the whole server through moto's state manager (a moto gap, README).
 */
async function pinTaskStates(endpoint: string): Promise<void> {
  const response = await fetch(new URL('/moto-api/state-manager/set-transition', endpoint), {
    method: 'POST',
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression: 'manual', times: 1_000_000 } }),
  });
  if (!response.ok) throw new Error(`moto state manager refused the ECS task transition (${response.status})`);
}

/** The account and region the fleet file names (the emulator deploys where the templates say). */
export function placeOf(fleet: FleetConfig): { account: string; region: string } {
  if (!fleet.account || !fleet.region) {
    throw new Error(`the emulator world needs a fleet file with account and region (${fleet.environment} has none)`);
  }
  return { account: fleet.account, region: fleet.region };
}

export interface WorldOptions {
  /** Where functions send EC2 requests (the moto front, test/emulator/support/moto-front.ts); moto itself by default. */
  readonly ec2Endpoint?: string;
}

export async function createEmulatorWorld(
  synth: SynthesizedFleet,
  endpoint: string,
  options: WorldOptions = {},
): Promise<EmulatorWorld> {
  const fleet = synth.fleet;
  const { region, account: fleetAccount } = placeOf(fleet);
  const account = newAccount();
  const aws = motoClients(endpoint, account, region);
  await pinTaskStates(endpoint);
  const replacements = new Map<string, string>();
  for (const cell of fleet.cells) {
    if (cell.certificateArn) {
      replacements.set(cell.certificateArn, await requestCertificate(aws, `${cell.id}.cells.emulator.example`));
    }
  }
  replacements.set(fleetAccount, account);
  const deployed = await deployAssembly(readAssembly(synth.outdir, replacements), aws);
  return {
    endpoint,
    aws,
    fleet,
    deployed,
    environment: fleet.environment,
    async record(site) {
      const parameter = await aws.ssm.send(
        new GetParameterCommand({ Name: siteRecordParameterName(fleet.environment, site) }),
      );
      return JSON.parse(parameter.Parameter?.Value ?? 'null') as SiteRecord;
    },
    invoke(fn, event, invokeOptions) {
      return invokeFunction(endpoint, region, fn, event, {
        ...invokeOptions,
        extraEnvironment: {
          ...(options.ec2Endpoint ? { AWS_ENDPOINT_URL_EC2: options.ec2Endpoint } : {}),
          ...invokeOptions?.extraEnvironment,
        },
      });
    },
  };
}

/** A security-group rule as the site's state: everything but its id (which a re-authorization changes). */
function ruleShape(rule: SecurityGroupRule) {
  const { SecurityGroupRuleId: _id, ...shape } = rule;
  return shape;
}

function sortedBy<T>(items: T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export interface SiteSnapshot {
  readonly record: SiteRecord;
  readonly groupRules: Record<string, SecurityGroupRule[]>;
  readonly aclAssociations: { subnetId?: string; networkAclId?: string; associationId?: string }[];
  readonly listenerRule: unknown;
  readonly taskRole: { policies: Record<string, unknown>; tags: unknown };
  readonly service: unknown;
  readonly tasks: unknown[];
}

/** Everything of one site the response plane may change, read back through the SDK. */
export async function snapshotSite(world: EmulatorWorld, site: string): Promise<SiteSnapshot> {
  const { aws } = world;
  const record = await world.record(site);
  const groups = [record.securityGroupId, record.standbySecurityGroupId].filter((g): g is string => Boolean(g));
  const [ruleSets, acls, rules, policyNames, roleTags, services, taskArns] = await Promise.all([
    Promise.all(
      groups.map((g) =>
        aws.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [g] }] })),
      ),
    ),
    record.subnetIds?.length
      ? aws.ec2.send(
          new DescribeNetworkAclsCommand({
            Filters: [{ Name: 'association.subnet-id', Values: [...record.subnetIds] }],
          }),
        )
      : undefined,
    aws.elbv2.send(new DescribeRulesCommand({ RuleArns: [record.listenerRuleArn] })),
    aws.iam.send(new ListRolePoliciesCommand({ RoleName: record.taskRoleName })),
    aws.iam.send(new ListRoleTagsCommand({ RoleName: record.taskRoleName })),
    aws.ecs.send(new DescribeServicesCommand({ cluster: record.clusterArn, services: [record.serviceName] })),
    aws.ecs.send(new ListTasksCommand({ cluster: record.clusterArn, serviceName: record.serviceName })),
  ]);
  const policies: Record<string, unknown> = {};
  for (const name of [...(policyNames.PolicyNames ?? [])].sort()) {
    const policy = await aws.iam.send(new GetRolePolicyCommand({ RoleName: record.taskRoleName, PolicyName: name }));
    policies[name] = JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}'));
  }
  const tasks = taskArns.taskArns?.length
    ? ((
        await aws.ecs.send(
          new DescribeTasksCommand({ cluster: record.clusterArn, tasks: taskArns.taskArns, include: ['TAGS'] }),
        )
      ).tasks ?? [])
    : [];
  const subnets = new Set(record.subnetIds ?? []);
  return {
    record,
    groupRules: Object.fromEntries(
      groups.map((g, i) => [g, sortedBy(ruleSets[i]?.SecurityGroupRules ?? [], (r) => r.SecurityGroupRuleId ?? '')]),
    ),
    aclAssociations: sortedBy(
      (acls?.NetworkAcls ?? []).flatMap((acl) =>
        (acl.Associations ?? [])
          .filter((a) => a.SubnetId && subnets.has(a.SubnetId))
          .map((a) => ({
            subnetId: a.SubnetId,
            networkAclId: acl.NetworkAclId,
            associationId: a.NetworkAclAssociationId,
          })),
      ),
      (a) => a.subnetId ?? '',
    ),
    listenerRule: rules.Rules?.[0],
    taskRole: { policies, tags: roleTags.Tags },
    service: services.services?.map((s) => ({
      serviceArn: s.serviceArn,
      status: s.status,
      desiredCount: s.desiredCount,
      taskDefinition: s.taskDefinition,
      tags: s.tags,
      networkConfiguration: s.networkConfiguration,
      loadBalancers: s.loadBalancers,
    })),
    tasks: sortedBy(tasks, (t) => t.taskArn ?? '').map((t) => ({
      taskArn: t.taskArn,
      lastStatus: t.lastStatus,
      desiredStatus: t.desiredStatus,
      group: t.group,
      tags: t.tags,
    })),
  };
}

/**
 * A site's state without the ids AWS assigns anew when something is put back (rule ids, ACL
 * association ids): what "exactly the state before" means for a release.
 */
export function stateOf(snapshot: SiteSnapshot) {
  return {
    ...snapshot,
    groupRules: Object.fromEntries(
      Object.entries(snapshot.groupRules).map(([g, rules]) => [
        g,
        sortedBy(rules.map(ruleShape), (r) => JSON.stringify(r)),
      ]),
    ),
    aclAssociations: snapshot.aclAssociations.map(({ associationId: _id, ...rest }) => rest),
  };
}
