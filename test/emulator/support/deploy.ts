import { randomBytes, randomUUID } from 'node:crypto';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupsCommand,
  type IpPermission,
  ModifyVpcAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  type CreateServiceCommandInput,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  RunTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  type CreateTargetGroupCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AttachRolePolicyCommand, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CreateStateMachineCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { Assembly, AssemblyStack, EmulatedResource } from './assembly';
import type { MotoClients } from './clients';
import { type IntrinsicContext, resolveValue } from '../../support/cfn-intrinsics';

/**
 * Deploys a synthesized assembly into moto resource by resource, the way CloudFormation
 * would, because moto's own CloudFormation cannot create most of these stacks. The resource
 * types the response plane touches are interpreted (created through moto's APIs from their
 * template properties, so a template that says something the code does not expect shows up
 * in the emulator tests); every other type gets a placeholder physical id and is listed in
 * {@link DeployedWorld.placeholders}.
 */

/** What CloudFormation returns for Ref and Fn::GetAtt of one created resource. */
export interface Deployed {
  readonly type: string;
  readonly ref: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** The resource's properties with every intrinsic resolved. */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** A Lambda function of the assembly: not created in moto (moto runs functions in Docker); run locally. */
export interface EmulatedFunction {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly roleArn: string;
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly codeDirectory: string;
}

export interface DeployedWorld {
  readonly account: string;
  readonly region: string;
  /** By stack name, then logical id. */
  readonly resources: ReadonlyMap<string, ReadonlyMap<string, Deployed>>;
  readonly exports: ReadonlyMap<string, unknown>;
  readonly functions: readonly EmulatedFunction[];
  /** Tasks the emulator started for each ECS service (by service ARN), as ECS's scheduler would. */
  readonly serviceTasks: ReadonlyMap<string, readonly Task[]>;
  /** Resource types given placeholder ids (not created in moto), with how many. */
  readonly placeholders: ReadonlyMap<string, number>;
  /** AWS-managed policies moto did not know (`role: arn`), so left unattached. */
  readonly unattachedManagedPolicies: readonly string[];
  resource(stack: string, logicalId: string): Deployed;
  fn(logicalIdPrefix: string): EmulatedFunction;
}

type CfnTags = { Key: string; Value: string }[] | Record<string, string> | undefined;

function tagList(tags: unknown): { Key: string; Value: string }[] {
  const t = tags as CfnTags;
  if (!t) return [];
  if (Array.isArray(t)) return t.map(({ Key, Value }) => ({ Key, Value }));
  return Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
}

function tagSpecification(resourceType: string, tags: unknown) {
  const list: Tag[] = tagList(tags);
  return list.length > 0 ? [{ ResourceType: resourceType as never, Tags: list }] : undefined;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * The name CloudFormation generates when a template gives none: `<stack>-<logicalId>-<random>`,
 * cut to the service's limit (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html).
 */
function generatedName(stack: string, logicalId: string, max: number, lowercase = false): string {
  const bytes = randomBytes(12);
  const suffix = [...bytes].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
  const room = Math.max(2, max - suffix.length - 2);
  const stackPart = stack.slice(0, Math.floor(room / 2)).replace(/-+$/, '');
  const idPart = logicalId.slice(0, room - stackPart.length).replace(/-+$/, '');
  const name = `${stackPart}-${idPart}-${suffix}`;
  return lowercase ? name.toLowerCase() : name;
}

/** CloudFormation's security-group rule properties as an EC2 IpPermission. */
function permission(rule: Record<string, unknown>, direction: 'ingress' | 'egress'): IpPermission {
  const protocol = String(rule.IpProtocol);
  const all = protocol === '-1';
  const base: IpPermission = {
    IpProtocol: protocol,
    ...(all ? {} : { FromPort: Number(rule.FromPort), ToPort: Number(rule.ToPort) }),
  };
  const Description = rule.Description as string | undefined;
  const peerGroup = direction === 'ingress' ? rule.SourceSecurityGroupId : rule.DestinationSecurityGroupId;
  const prefixList = direction === 'ingress' ? rule.SourcePrefixListId : rule.DestinationPrefixListId;
  if (rule.CidrIp) return { ...base, IpRanges: [{ CidrIp: rule.CidrIp as string, Description }] };
  if (rule.CidrIpv6) return { ...base, Ipv6Ranges: [{ CidrIpv6: rule.CidrIpv6 as string, Description }] };
  if (peerGroup) return { ...base, UserIdGroupPairs: [{ GroupId: peerGroup as string, Description }] };
  if (prefixList) return { ...base, PrefixListIds: [{ PrefixListId: prefixList as string, Description }] };
  throw new Error(`security-group rule names no peer: ${JSON.stringify(rule)}`);
}

/** ECS's CloudFormation properties are PascalCase; its API is camelCase, with a few renames. */
const ECS_RENAMES: Record<string, string> = {
  EFSVolumeConfiguration: 'efsVolumeConfiguration',
  FilesystemId: 'fileSystemId',
  IAM: 'iam',
  AwsvpcConfiguration: 'awsvpcConfiguration',
};
/** Properties whose keys are the user's own (kept as written). */
const ECS_MAPS = new Set(['Options', 'DockerLabels', 'SecretOptions']);

function camel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camel);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      ECS_RENAMES[k] ?? k.charAt(0).toLowerCase() + k.slice(1),
      ECS_MAPS.has(k) ? v : camel(v),
    ]),
  );
}

const AZ_SUFFIXES = ['a', 'b', 'c'];

/** Deploys every stack of the assembly into moto, in dependency order. */
export async function deployAssembly(assembly: Assembly, aws: MotoClients): Promise<DeployedWorld> {
  const resources = new Map<string, Map<string, Deployed>>();
  const outputs = new Map<string, Map<string, unknown>>();
  const exports = new Map<string, unknown>();
  const functions: EmulatedFunction[] = [];
  const serviceTasks = new Map<string, Task[]>();
  const placeholders = new Map<string, number>();
  const unattached: string[] = [];

  for (const stack of assembly.stacks) {
    const created = new Map<string, Deployed>();
    resources.set(stack.name, created);
    const pending = new Map<string, Promise<Deployed>>();
    const stackId = `arn:aws:cloudformation:${aws.region}:${aws.account}:stack/${stack.name}/${randomUUID()}`;
    const ctx: IntrinsicContext = {
      stackName: stack.name,
      stackId,
      region: aws.region,
      account: aws.account,
      azs: AZ_SUFFIXES.map((s) => `${aws.region}${s}`),
      mappings: stack.template.Mappings ?? {},
      ref: async (id) => (await ensure(id)).ref,
      getAtt: async (id, attribute) => {
        const deployed = await ensure(id);
        if (!(attribute in deployed.attributes)) {
          throw new Error(`${stack.name}/${id} (${deployed.type}) has no attribute ${attribute} in the emulator world`);
        }
        return deployed.attributes[attribute];
      },
      importValue: (name) => {
        if (!exports.has(name)) throw new Error(`${stack.name}: no export ${name}`);
        return exports.get(name);
      },
      stackOutput: (name, output) => {
        const value = outputs.get(name)?.get(output);
        if (value === undefined) throw new Error(`${stack.name}: no output ${output} of ${name}`);
        return value;
      },
      parameter: (name) => {
        const parameter = stack.template.Parameters?.[name];
        if (!parameter) return undefined;
        // CDK's bootstrap-version parameter (an SSM parameter type): CDK's rule accepts 6 and later.
        return name === 'BootstrapVersion' ? '30' : parameter.Default;
      },
    };
    const ensure = (id: string): Promise<Deployed> => {
      let promise = pending.get(id);
      if (!promise) {
        const resource = stack.template.Resources[id];
        if (!resource) return Promise.reject(new Error(`${stack.name}: no resource ${id}`));
        promise = (async () => {
          for (const dependency of [resource.DependsOn ?? []].flat()) await ensure(dependency);
          const properties = (await resolveValue(resource.Properties ?? {}, ctx)) as Record<string, unknown>;
          const deployed = await create(stack, id, resource, properties).catch((error: unknown) => {
            const e = error as Error;
            e.message = `deploying ${stack.name}/${id} (${resource.Type}): ${e.name}: ${e.message}`;
            throw e;
          });
          created.set(id, deployed);
          return deployed;
        })();
        pending.set(id, promise);
      }
      return promise;
    };

    const create = async (
      stack: AssemblyStack,
      id: string,
      resource: EmulatedResource,
      p: Record<string, unknown>,
    ): Promise<Deployed> => {
      const done = (ref: string, attributes: Record<string, unknown> = {}): Deployed => ({
        type: resource.Type,
        ref,
        attributes,
        properties: p,
      });
      switch (resource.Type) {
        case 'AWS::EC2::VPC': {
          const vpc = (
            await aws.ec2.send(
              new CreateVpcCommand({
                CidrBlock: p.CidrBlock as string,
                TagSpecifications: tagSpecification('vpc', p.Tags),
              }),
            )
          ).Vpc;
          const VpcId = vpc?.VpcId as string;
          // One attribute per ModifyVpcAttribute call (EC2 API reference).
          if (p.EnableDnsSupport !== undefined) {
            await aws.ec2.send(
              new ModifyVpcAttributeCommand({ VpcId, EnableDnsSupport: { Value: Boolean(p.EnableDnsSupport) } }),
            );
          }
          if (p.EnableDnsHostnames !== undefined) {
            await aws.ec2.send(
              new ModifyVpcAttributeCommand({ VpcId, EnableDnsHostnames: { Value: Boolean(p.EnableDnsHostnames) } }),
            );
          }
          const inVpc = [{ Name: 'vpc-id', Values: [VpcId] }];
          const [groups, acls] = await Promise.all([
            aws.ec2.send(
              new DescribeSecurityGroupsCommand({ Filters: [...inVpc, { Name: 'group-name', Values: ['default'] }] }),
            ),
            aws.ec2.send(
              new DescribeNetworkAclsCommand({ Filters: [...inVpc, { Name: 'default', Values: ['true'] }] }),
            ),
          ]);
          return done(VpcId, {
            CidrBlock: vpc?.CidrBlock,
            VpcId,
            DefaultSecurityGroup: groups.SecurityGroups?.[0]?.GroupId,
            DefaultNetworkAcl: acls.NetworkAcls?.[0]?.NetworkAclId,
          });
        }
        case 'AWS::EC2::Subnet': {
          const subnet = (
            await aws.ec2.send(
              new CreateSubnetCommand({
                VpcId: p.VpcId as string,
                CidrBlock: p.CidrBlock as string,
                AvailabilityZone: p.AvailabilityZone as string,
                TagSpecifications: tagSpecification('subnet', p.Tags),
              }),
            )
          ).Subnet;
          return done(subnet?.SubnetId as string, {
            SubnetId: subnet?.SubnetId,
            AvailabilityZone: subnet?.AvailabilityZone,
            VpcId: subnet?.VpcId,
          });
        }
        case 'AWS::EC2::SecurityGroup': {
          const group = await aws.ec2.send(
            new CreateSecurityGroupCommand({
              GroupName: (p.GroupName as string | undefined) ?? generatedName(stack.name, id, 255),
              Description: p.GroupDescription as string,
              VpcId: p.VpcId as string,
              TagSpecifications: tagSpecification('security-group', p.Tags),
            }),
          );
          const GroupId = group.GroupId as string;
          const ingress = (p.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? [];
          const egress = p.SecurityGroupEgress as Record<string, unknown>[] | undefined;
          if (ingress.length > 0) {
            await aws.ec2.send(
              new AuthorizeSecurityGroupIngressCommand({
                GroupId,
                IpPermissions: ingress.map((r) => permission(r, 'ingress')),
              }),
            );
          }
          // AWS::EC2::SecurityGroup, SecurityGroupEgress: "When you specify a VPC security group,
          // Amazon EC2 creates a default egress rule that allows egress traffic on all ports and IP
          // protocols to any location. The default rule is removed only when you specify one or
          // more egress rules."
          if (egress !== undefined) {
            await aws.ec2.send(
              new RevokeSecurityGroupEgressCommand({
                GroupId,
                IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
              }),
            );
            if (egress.length > 0) {
              await aws.ec2.send(
                new AuthorizeSecurityGroupEgressCommand({
                  GroupId,
                  IpPermissions: egress.map((r) => permission(r, 'egress')),
                }),
              );
            }
          }
          return done(GroupId, { GroupId, VpcId: p.VpcId });
        }
        case 'AWS::EC2::SecurityGroupIngress':
        case 'AWS::EC2::SecurityGroupEgress': {
          const direction = resource.Type.endsWith('Ingress') ? 'ingress' : 'egress';
          const input = { GroupId: p.GroupId as string, IpPermissions: [permission(p, direction)] };
          const out =
            direction === 'ingress'
              ? await aws.ec2.send(new AuthorizeSecurityGroupIngressCommand(input))
              : await aws.ec2.send(new AuthorizeSecurityGroupEgressCommand(input));
          const ruleId = out.SecurityGroupRules?.[0]?.SecurityGroupRuleId ?? `sgr-${id}`;
          return done(ruleId, { Id: ruleId });
        }
        case 'AWS::EC2::PrefixList': {
          const list = (
            await aws.ec2.send(
              new CreateManagedPrefixListCommand({
                PrefixListName: p.PrefixListName as string,
                AddressFamily: p.AddressFamily as string,
                MaxEntries: Number(p.MaxEntries),
                Entries: p.Entries as { Cidr: string; Description?: string }[],
                TagSpecifications: tagSpecification('prefix-list', p.Tags),
              }),
            )
          ).PrefixList;
          return done(list?.PrefixListId as string, {
            PrefixListId: list?.PrefixListId,
            Arn: list?.PrefixListArn,
            Version: list?.Version,
          });
        }
        case 'AWS::EC2::NetworkAcl': {
          const acl = (
            await aws.ec2.send(
              new CreateNetworkAclCommand({
                VpcId: p.VpcId as string,
                TagSpecifications: tagSpecification('network-acl', p.Tags),
              }),
            )
          ).NetworkAcl;
          return done(acl?.NetworkAclId as string, { Id: acl?.NetworkAclId });
        }
        case 'AWS::EC2::NetworkAclEntry': {
          const range = p.PortRange as { From: number; To: number } | undefined;
          await aws.ec2.send(
            new CreateNetworkAclEntryCommand({
              NetworkAclId: p.NetworkAclId as string,
              RuleNumber: Number(p.RuleNumber),
              Protocol: String(p.Protocol),
              RuleAction: p.RuleAction as 'allow' | 'deny',
              Egress: Boolean(p.Egress),
              CidrBlock: p.CidrBlock as string | undefined,
              PortRange: range ? { From: Number(range.From), To: Number(range.To) } : undefined,
            }),
          );
          return done(`${p.NetworkAclId}-${p.Egress ? 'egress' : 'ingress'}-${p.RuleNumber}`);
        }
        case 'AWS::EC2::SubnetNetworkAclAssociation': {
          // CloudFormation moves the subnet from the ACL it is on (the VPC's default) to this one.
          const acls = await aws.ec2.send(
            new DescribeNetworkAclsCommand({
              Filters: [{ Name: 'association.subnet-id', Values: [p.SubnetId as string] }],
            }),
          );
          const current = acls.NetworkAcls?.flatMap((a) => a.Associations ?? []).find((a) => a.SubnetId === p.SubnetId);
          if (!current?.NetworkAclAssociationId) throw new Error(`subnet ${p.SubnetId} has no ACL association`);
          const replaced = await aws.ec2.send(
            new ReplaceNetworkAclAssociationCommand({
              AssociationId: current.NetworkAclAssociationId,
              NetworkAclId: p.NetworkAclId as string,
            }),
          );
          return done(replaced.NewAssociationId as string, { AssociationId: replaced.NewAssociationId });
        }
        case 'Custom::AWS': {
          // AwsCustomResource: the one the network stack uses looks up the region's S3 prefix list.
          const call = JSON.parse(p.Create as string) as {
            service: string;
            action: string;
            parameters: Record<string, unknown>;
            physicalResourceId?: { id?: string };
          };
          if (
            call.service === 'SSM' &&
            call.action === 'updateServiceSetting' &&
            call.parameters.SettingId === '/ssm/parameter-store/high-throughput-enabled' &&
            call.parameters.SettingValue === 'true'
          ) {
            // Parameter Store's higher throughput (the response stack turns it on). moto 5.2 has no
            // UpdateServiceSetting (test/emulator/README.md, known gaps): an account setting with no
            // effect on what these tests read back; its rate is modelled in test/support/aws-model
            // (test/response/burst-limits.test.ts).
            return done(call.physicalResourceId?.id ?? id, {});
          }
          if (call.service !== 'EC2' || call.action !== 'describeManagedPrefixLists') {
            throw new Error(`Custom::AWS ${call.service}.${call.action} is not interpreted by the emulator world`);
          }
          const lists = await aws.ec2.send(new DescribeManagedPrefixListsCommand(call.parameters as never));
          const first = lists.PrefixLists?.[0];
          if (!first) throw new Error(`no managed prefix list matches ${JSON.stringify(call.parameters)} in moto`);
          return done(call.physicalResourceId?.id ?? id, { 'PrefixLists.0.PrefixListId': first.PrefixListId });
        }
        case 'AWS::ECS::Cluster': {
          const cluster = (
            await aws.ecs.send(
              new CreateClusterCommand({
                clusterName: (p.ClusterName as string | undefined) ?? generatedName(stack.name, id, 255),
                tags: tagList(p.Tags).map((t) => ({ key: t.Key, value: t.Value })),
              }),
            )
          ).cluster;
          return done(cluster?.clusterName as string, { Arn: cluster?.clusterArn });
        }
        case 'AWS::ECS::TaskDefinition': {
          const input = camel(p) as RegisterTaskDefinitionCommandInput & { tags?: { key: string; value: string }[] };
          // moto gap (test/emulator/README.md): moto sums container memory to place Fargate tasks and
          // fails on a container without it; AWS takes the task-level memory for Fargate.
          input.containerDefinitions = (input.containerDefinitions ?? []).map((c) =>
            c.memory === undefined && c.memoryReservation === undefined ? { ...c, memory: Number(input.memory) } : c,
          );
          const definition = (await aws.ecs.send(new RegisterTaskDefinitionCommand(input))).taskDefinition;
          return done(definition?.taskDefinitionArn as string, { TaskDefinitionArn: definition?.taskDefinitionArn });
        }
        case 'AWS::ECS::Service': {
          const input = camel(p) as CreateServiceCommandInput & { tags?: { key: string; value: string }[] };
          const service = (
            await aws.ecs.send(
              new CreateServiceCommand({
                ...input,
                serviceName: (p.ServiceName as string | undefined) ?? generatedName(stack.name, id, 255),
                enableECSManagedTags: Boolean(p.EnableECSManagedTags),
              }),
            )
          ).service;
          // ECS's scheduler starts desiredCount tasks. With propagateTags SERVICE "the tags from the
          // service are propagated to the tasks"; with enableECSManagedTags ECS adds
          // aws:ecs:clusterName and aws:ecs:serviceName (ECS API reference, CreateService). moto's
          // CreateService starts none, so the emulator starts them as the scheduler would.
          const tags = [
            ...(p.PropagateTags === 'SERVICE' ? (input.tags ?? []) : []),
            ...(p.EnableECSManagedTags
              ? [
                  { key: 'aws:ecs:clusterName', value: service?.clusterArn?.split('/').pop() ?? '' },
                  { key: 'aws:ecs:serviceName', value: service?.serviceName ?? '' },
                ]
              : []),
          ];
          const count = Number(p.DesiredCount ?? 1);
          const run =
            count > 0
              ? await aws.ecs.send(
                  new RunTaskCommand({
                    cluster: service?.clusterArn,
                    taskDefinition: service?.taskDefinition,
                    count,
                    launchType: 'FARGATE',
                    group: `service:${service?.serviceName}`,
                    startedBy: `ecs-svc/${randomBytes(8).toString('hex')}`,
                    networkConfiguration: input.networkConfiguration,
                    tags,
                  }),
                )
              : { tasks: [] };
          serviceTasks.set(service?.serviceArn as string, run.tasks ?? []);
          return done(service?.serviceArn as string, { Name: service?.serviceName, ServiceArn: service?.serviceArn });
        }
        case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
          const lb = (
            await aws.elbv2.send(
              new CreateLoadBalancerCommand({
                Name: (p.Name as string | undefined) ?? generatedName(stack.name, id, 32).replace(/[^A-Za-z0-9-]/g, ''),
                Subnets: p.Subnets as string[],
                SecurityGroups: p.SecurityGroups as string[],
                Scheme: p.Scheme as 'internet-facing',
                Type: (p.Type as 'application' | undefined) ?? 'application',
                Tags: tagList(p.Tags),
              }),
            )
          ).LoadBalancers?.[0];
          const arn = lb?.LoadBalancerArn as string;
          return done(arn, {
            LoadBalancerFullName: arn.split(':loadbalancer/')[1],
            LoadBalancerName: lb?.LoadBalancerName,
            DNSName: lb?.DNSName,
            CanonicalHostedZoneID: lb?.CanonicalHostedZoneId,
            SecurityGroups: lb?.SecurityGroups,
          });
        }
        case 'AWS::ElasticLoadBalancingV2::Listener': {
          const listener = (
            await aws.elbv2.send(
              new CreateListenerCommand({
                LoadBalancerArn: p.LoadBalancerArn as string,
                Port: Number(p.Port),
                Protocol: p.Protocol as 'HTTP',
                Certificates: p.Certificates as { CertificateArn: string }[] | undefined,
                SslPolicy: p.SslPolicy as string | undefined,
                DefaultActions: p.DefaultActions as never,
              }),
            )
          ).Listeners?.[0];
          return done(listener?.ListenerArn as string, { ListenerArn: listener?.ListenerArn });
        }
        case 'AWS::ElasticLoadBalancingV2::ListenerRule': {
          const rule = (
            await aws.elbv2.send(
              new CreateRuleCommand({
                ListenerArn: p.ListenerArn as string,
                Priority: Number(p.Priority),
                Conditions: p.Conditions as never,
                Actions: p.Actions as never,
              }),
            )
          ).Rules?.[0];
          return done(rule?.RuleArn as string, { RuleArn: rule?.RuleArn });
        }
        case 'AWS::ElasticLoadBalancingV2::TargetGroup': {
          const input: CreateTargetGroupCommandInput = {
            Name: (p.Name as string | undefined) ?? generatedName(stack.name, id, 32).replace(/[^A-Za-z0-9-]/g, ''),
            Port: Number(p.Port),
            Protocol: p.Protocol as 'HTTP',
            VpcId: p.VpcId as string,
            TargetType: p.TargetType as 'ip',
            HealthCheckPath: p.HealthCheckPath as string | undefined,
            HealthCheckIntervalSeconds: p.HealthCheckIntervalSeconds as number | undefined,
            Matcher: p.Matcher as { HttpCode: string } | undefined,
            Tags: tagList(p.Tags),
          };
          const group = (await aws.elbv2.send(new CreateTargetGroupCommand(input))).TargetGroups?.[0];
          const arn = group?.TargetGroupArn as string;
          return done(arn, {
            TargetGroupFullName: arn.split(':').pop(),
            TargetGroupName: group?.TargetGroupName,
            TargetGroupArn: arn,
          });
        }
        case 'AWS::IAM::Role': {
          const RoleName = (p.RoleName as string | undefined) ?? generatedName(stack.name, id, 64);
          const role = (
            await aws.iam.send(
              new CreateRoleCommand({
                RoleName,
                Path: p.Path as string | undefined,
                AssumeRolePolicyDocument: JSON.stringify(p.AssumeRolePolicyDocument),
                Description: p.Description as string | undefined,
                Tags: tagList(p.Tags),
              }),
            )
          ).Role;
          for (const policy of (p.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined) ?? []) {
            await aws.iam.send(
              new PutRolePolicyCommand({
                RoleName,
                PolicyName: policy.PolicyName,
                PolicyDocument: JSON.stringify(policy.PolicyDocument),
              }),
            );
          }
          for (const arn of (p.ManagedPolicyArns as string[] | undefined) ?? []) {
            try {
              await aws.iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: arn }));
            } catch (error) {
              // moto knows AWS-managed policies only when started with MOTO_IAM_LOAD_MANAGED_POLICIES
              // (a gap, test/emulator/README.md); they only let functions write their own logs.
              if ((error as Error).name !== 'NoSuchEntityException' || !arn.startsWith('arn:aws:iam::aws:policy/'))
                throw error;
              unattached.push(`${RoleName}: ${arn}`);
            }
          }
          return done(RoleName, { Arn: role?.Arn, RoleId: role?.RoleId });
        }
        case 'AWS::IAM::Policy': {
          for (const RoleName of (p.Roles as string[] | undefined) ?? []) {
            await aws.iam.send(
              new PutRolePolicyCommand({
                RoleName,
                PolicyName: p.PolicyName as string,
                PolicyDocument: JSON.stringify(p.PolicyDocument),
              }),
            );
          }
          return done(`${stack.name}-${id}`);
        }
        case 'AWS::SSM::Parameter': {
          await aws.ssm.send(
            new PutParameterCommand({
              Name: p.Name as string,
              Value: p.Value as string,
              Type: p.Type as 'String',
              Description: p.Description as string | undefined,
              Tier: p.Tier as 'Standard' | undefined,
              Tags: tagList(p.Tags),
            }),
          );
          return done(p.Name as string, { Type: p.Type, Value: p.Value });
        }
        case 'AWS::DynamoDB::Table': {
          const TableName = (p.TableName as string | undefined) ?? generatedName(stack.name, id, 255);
          const table = (
            await aws.dynamodb.send(
              new CreateTableCommand({
                TableName,
                AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
                KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
                GlobalSecondaryIndexes: p.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
                BillingMode: p.BillingMode as 'PAY_PER_REQUEST',
                Tags: tagList(p.Tags),
              }),
            )
          ).TableDescription;
          return done(TableName, { Arn: table?.TableArn, StreamArn: table?.LatestStreamArn });
        }
        case 'AWS::SNS::Topic': {
          const Name = (p.TopicName as string | undefined) ?? generatedName(stack.name, id, 256);
          const topic = await aws.sns.send(
            new CreateTopicCommand({
              Name,
              Attributes: {
                ...(p.DisplayName ? { DisplayName: p.DisplayName as string } : {}),
                ...(p.KmsMasterKeyId ? { KmsMasterKeyId: p.KmsMasterKeyId as string } : {}),
              },
              Tags: tagList(p.Tags),
            }),
          );
          return done(topic.TopicArn as string, { TopicArn: topic.TopicArn, TopicName: Name });
        }
        case 'AWS::S3::Bucket': {
          const Bucket = (p.BucketName as string | undefined) ?? generatedName(stack.name, id, 63, true);
          const lock = p.ObjectLockConfiguration as
            { ObjectLockEnabled?: string; Rule?: { DefaultRetention?: { Mode?: string; Days?: number } } } | undefined;
          await aws.s3.send(
            new CreateBucketCommand({
              Bucket,
              ObjectLockEnabledForBucket: Boolean(p.ObjectLockEnabled) || lock?.ObjectLockEnabled === 'Enabled',
              CreateBucketConfiguration: { LocationConstraint: aws.region as never },
            }),
          );
          if ((p.VersioningConfiguration as { Status?: string } | undefined)?.Status === 'Enabled') {
            await aws.s3.send(
              new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }),
            );
          }
          if (lock?.Rule?.DefaultRetention) {
            await aws.s3.send(
              new PutObjectLockConfigurationCommand({
                Bucket,
                ObjectLockConfiguration: {
                  ObjectLockEnabled: 'Enabled',
                  Rule: {
                    DefaultRetention: {
                      Mode: lock.Rule.DefaultRetention.Mode as 'GOVERNANCE',
                      Days: lock.Rule.DefaultRetention.Days,
                    },
                  },
                },
              }),
            );
          }
          return done(Bucket, { Arn: `arn:aws:s3:::${Bucket}`, DomainName: `${Bucket}.s3.amazonaws.com` });
        }
        case 'AWS::StepFunctions::StateMachine': {
          const name = (p.StateMachineName as string | undefined) ?? generatedName(stack.name, id, 80);
          const machine = await aws.sfn.send(
            new CreateStateMachineCommand({
              name,
              definition: p.DefinitionString as string,
              roleArn: p.RoleArn as string,
              type: (p.StateMachineType as 'STANDARD' | undefined) ?? 'STANDARD',
              tags: tagList(p.Tags).map((t) => ({ key: t.Key, value: t.Value })),
            }),
          );
          return done(machine.stateMachineArn as string, { Name: name, Arn: machine.stateMachineArn });
        }
        case 'AWS::SecretsManager::Secret': {
          const generate = p.GenerateSecretString as
            { SecretStringTemplate?: string; GenerateStringKey?: string; PasswordLength?: number } | undefined;
          const value = generate?.SecretStringTemplate
            ? JSON.stringify({
                ...(JSON.parse(generate.SecretStringTemplate) as Record<string, unknown>),
                [generate.GenerateStringKey ?? 'password']: randomBytes(30).toString('base64url').slice(0, 40),
              })
            : ((p.SecretString as string | undefined) ?? randomBytes(30).toString('base64url'));
          const secret = await aws.secrets.send(
            new CreateSecretCommand({
              Name: (p.Name as string | undefined) ?? generatedName(stack.name, id, 256),
              Description: p.Description as string | undefined,
              SecretString: value,
              Tags: tagList(p.Tags),
            }),
          );
          return done(secret.ARN as string, { Id: secret.ARN });
        }
        case 'AWS::Logs::LogGroup': {
          const logGroupName = (p.LogGroupName as string | undefined) ?? generatedName(stack.name, id, 512);
          await aws.logs.send(
            new CreateLogGroupCommand({
              logGroupName,
              tags: Object.fromEntries(tagList(p.Tags).map((t) => [t.Key as string, t.Value as string])),
            }),
          );
          return done(logGroupName, {
            Arn: `arn:aws:logs:${aws.region}:${aws.account}:log-group:${logGroupName}:*`,
          });
        }
        case 'AWS::Lambda::Function': {
          const name = (p.FunctionName as string | undefined) ?? generatedName(stack.name, id, 64);
          const arn = `arn:aws:lambda:${aws.region}:${aws.account}:function:${name}`;
          const code = p.Code as { S3Key?: string };
          if (code.S3Key) {
            functions.push({
              stack: stack.name,
              logicalId: id,
              name,
              arn,
              roleArn: p.Role as string,
              handler: (p.Handler as string | undefined) ?? 'index.handler',
              timeoutSeconds: Number(p.Timeout ?? 3),
              memoryMb: Number(p.MemorySize ?? 128),
              environment: ((p.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ??
                {}) as Record<string, string>,
              codeDirectory: assembly.assetPath(code.S3Key),
            });
          }
          return done(name, { Arn: arn });
        }
        case 'AWS::KMS::Key': {
          const keyId = randomUUID();
          return done(keyId, { Arn: `arn:aws:kms:${aws.region}:${aws.account}:key/${keyId}`, KeyId: keyId });
        }
        case 'AWS::Backup::BackupVault': {
          const name = p.BackupVaultName as string;
          return done(name, {
            BackupVaultName: name,
            BackupVaultArn: `arn:aws:backup:${aws.region}:${aws.account}:backup-vault:${name}`,
          });
        }
        default: {
          placeholders.set(resource.Type, (placeholders.get(resource.Type) ?? 0) + 1);
          // ARN-shaped, so policies naming it stay valid IAM (moto checks resources are ARNs or *).
          const service = (resource.Type.split('::')[1] ?? 'custom').toLowerCase();
          const ref = `arn:aws:${service}:${aws.region}:${aws.account}:placeholder/${id}-${randomBytes(4).toString('hex')}`;
          // Attributes other resources need as numbers (a database port in a security-group rule).
          const known: Record<string, unknown> = { 'Endpoint.Port': String(p.Port ?? 3306) };
          return done(
            ref,
            new Proxy(known, {
              has: () => true,
              get: (target, attribute) => target[String(attribute)] ?? `${ref}.${String(attribute)}`,
            }),
          );
        }
      }
    };

    for (const id of Object.keys(stack.template.Resources)) await ensure(id);
    const stackOutputs = new Map<string, unknown>();
    outputs.set(stack.name, stackOutputs);
    for (const [name, output] of Object.entries(stack.template.Outputs ?? {})) {
      const value = await resolveValue(output.Value, ctx);
      stackOutputs.set(name, value);
      if (output.Export) exports.set((await resolveValue(output.Export.Name, ctx)) as string, value);
    }
  }

  return {
    account: aws.account,
    region: aws.region,
    resources,
    exports,
    functions,
    serviceTasks,
    placeholders,
    unattachedManagedPolicies: unattached,
    resource(stack, logicalId) {
      const found = resources.get(stack)?.get(logicalId);
      if (!found) throw new Error(`no resource ${stack}/${logicalId} in the emulator world`);
      return found;
    },
    fn(prefix) {
      const matches = functions.filter((f) => f.logicalId.startsWith(prefix));
      if (matches.length !== 1) throw new Error(`${matches.length} functions start with ${prefix}`);
      return matches[0] as EmulatedFunction;
    },
  };
}
