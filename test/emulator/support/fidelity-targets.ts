import { randomInt } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateNetworkAclCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Tag as EcsTag,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type AwsModel, installAwsModel } from '../../support/aws-model';
import { motoClients } from './clients';

/**
 * One implementation of AWS a conformance row runs against: the project's model or moto.
 * A row acts and observes only through SDK clients; what it needs to exist first is made with
 * the few `arrange` helpers below (the model's seeding helpers, moto's APIs), so the same row
 * runs unchanged against both.
 */
export interface Target {
  readonly name: 'model' | 'moto';
  readonly ec2: EC2Client;
  readonly ecs: ECSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly iam: IAMClient;
  readonly sfn: SFNClient;
  readonly ssm: SSMClient;
  readonly dynamodb: DynamoDBClient;
  vpc(): Promise<string>;
  subnet(vpcId: string, cidr: string): Promise<string>;
  /** A network ACL with no subnet (EC2's default deny entries only). */
  networkAcl(vpcId: string): Promise<string>;
  /** A load balancer with an HTTP listener and one rule forwarding `host` to a new target group. */
  forwardRule(vpcId: string, subnetId: string): Promise<{ ruleArn: string; targetGroupArn: string }>;
  /** A running Fargate task carrying these tags. */
  taggedTask(subnetId: string, groupId: string, tags: EcsTag[]): Promise<{ cluster: string; taskArn: string }>;
  role(name: string): Promise<void>;
  stateMachine(name: string): Promise<string>;
  /** A table keyed like the incident table (`pk`, `sk`). */
  table(name: string): Promise<void>;
}

const REGION = 'eu-west-1';
const TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** Runs `row` against the model: installed for the row, restored after. */
export async function onModel<T>(row: (target: Target) => Promise<T>): Promise<T> {
  const aws: AwsModel = installAwsModel({ retries: 'off', region: REGION });
  const config = { region: aws.region, credentials: { accessKeyId: 'AKIAMODEL', secretAccessKey: 'model' } };
  let n = 0;
  const target: Target = {
    name: 'model',
    ec2: new EC2Client(config),
    ecs: new ECSClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    iam: new IAMClient(config),
    sfn: new SFNClient(config),
    ssm: new SSMClient(config),
    dynamodb: new DynamoDBClient(config),
    vpc: async () => aws.ec2.createVpc({ cidr: '10.0.0.0/16' }).VpcId,
    subnet: async (vpcId, cidr) => aws.ec2.createSubnet({ vpcId, cidr, availabilityZone: `${aws.region}a` }).SubnetId,
    networkAcl: async (vpcId) => aws.ec2.createNetworkAcl({ vpcId }).NetworkAclId,
    forwardRule: async (vpcId, subnetId) => {
      const lb = aws.elbv2.createLoadBalancer({ name: `fidelity-${++n}`, subnetIds: [subnetId], securityGroups: [] });
      const listener = aws.elbv2.createListener({
        loadBalancerArn: lb.LoadBalancerArn,
        port: 80,
        defaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
      });
      const tg = aws.elbv2.createTargetGroup({ name: `fidelity-${n}`, vpcId, port: 8080 });
      const rule = aws.elbv2.addRule({
        listenerArn: listener.ListenerArn,
        priority: 10,
        conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['fidelity.example'] } }],
        actions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
      });
      return { ruleArn: rule.RuleArn, targetGroupArn: tg.TargetGroupArn };
    },
    taggedTask: async (subnetId, groupId, tags) => {
      const cluster = aws.ecs.createCluster({ name: `fidelity-${++n}` });
      const td = aws.ecs.registerTaskDefinition({
        family: `fidelity-${n}`,
        containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/docker/library/nginx:latest' }],
      });
      const service = aws.ecs.createService({
        cluster: cluster.clusterArn,
        name: `fidelity-${n}`,
        taskDefinition: td.taskDefinitionArn,
        desiredCount: 1,
        subnets: [subnetId],
        securityGroups: [groupId],
        propagateTags: 'SERVICE',
        tags,
        running: true,
      });
      const [task] = aws.ecs.runningTasks(service.serviceArn);
      return { cluster: cluster.clusterArn, taskArn: task?.taskArn ?? '' };
    },
    role: async (name) => {
      aws.iam.createRole({ name, assumeRolePolicy: TRUST });
    },
    stateMachine: async (name) => aws.sfn.createStateMachine(name),
    table: async (name) => {
      await target.dynamodb.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    },
  };
  try {
    return await row(target);
  } finally {
    aws.restore();
  }
}

/** Runs `row` against moto, in an account of its own. */
export async function onMoto<T>(endpoint: string, row: (target: Target) => Promise<T>): Promise<T> {
  const aws = motoClients(endpoint, `5${String(randomInt(0, 10 ** 11)).padStart(11, '0')}`, REGION);
  let n = 0;
  const target: Target = {
    name: 'moto',
    ec2: aws.ec2,
    ecs: aws.ecs,
    elbv2: aws.elbv2,
    iam: aws.iam,
    sfn: aws.sfn,
    ssm: aws.ssm,
    dynamodb: aws.dynamodb,
    vpc: async () => {
      const VpcId = (await aws.ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId as string;
      await aws.ec2.send(new ModifyVpcAttributeCommand({ VpcId, EnableDnsHostnames: { Value: true } }));
      return VpcId;
    },
    subnet: async (vpcId, cidr) =>
      (await aws.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: `${REGION}a` })))
        .Subnet?.SubnetId as string,
    networkAcl: async (vpcId) =>
      (await aws.ec2.send(new CreateNetworkAclCommand({ VpcId: vpcId }))).NetworkAcl?.NetworkAclId as string,
    forwardRule: async (vpcId, subnetId) => {
      const lb = (await aws.elbv2.send(new CreateLoadBalancerCommand({ Name: `fidelity-${++n}`, Subnets: [subnetId] })))
        .LoadBalancers?.[0];
      const listener = (
        await aws.elbv2.send(
          new CreateListenerCommand({
            LoadBalancerArn: lb?.LoadBalancerArn,
            Port: 80,
            Protocol: 'HTTP',
            DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
          }),
        )
      ).Listeners?.[0];
      const tg = (
        await aws.elbv2.send(
          new CreateTargetGroupCommand({
            Name: `fidelity-${n}`,
            VpcId: vpcId,
            Port: 8080,
            Protocol: 'HTTP',
            TargetType: 'ip',
          }),
        )
      ).TargetGroups?.[0];
      const rule = (
        await aws.elbv2.send(
          new CreateRuleCommand({
            ListenerArn: listener?.ListenerArn,
            Priority: 10,
            Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['fidelity.example'] } }],
            Actions: [{ Type: 'forward', TargetGroupArn: tg?.TargetGroupArn }],
          }),
        )
      ).Rules?.[0];
      return { ruleArn: rule?.RuleArn as string, targetGroupArn: tg?.TargetGroupArn as string };
    },
    taggedTask: async (subnetId, groupId, tags) => {
      const cluster = (await aws.ecs.send(new CreateClusterCommand({ clusterName: `fidelity-${++n}` }))).cluster;
      const td = (
        await aws.ecs.send(
          new RegisterTaskDefinitionCommand({
            family: `fidelity-${n}`,
            requiresCompatibilities: ['FARGATE'],
            networkMode: 'awsvpc',
            cpu: '256',
            memory: '512',
            // moto gap (README): it needs container memory to place a Fargate task.
            containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/docker/library/nginx:latest', memory: 512 }],
          }),
        )
      ).taskDefinition;
      const run = await aws.ecs.send(
        new RunTaskCommand({
          cluster: cluster?.clusterArn,
          taskDefinition: td?.taskDefinitionArn,
          launchType: 'FARGATE',
          networkConfiguration: { awsvpcConfiguration: { subnets: [subnetId], securityGroups: [groupId] } },
          tags,
        }),
      );
      return { cluster: cluster?.clusterArn as string, taskArn: run.tasks?.[0]?.taskArn as string };
    },
    role: async (name) => {
      await aws.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(TRUST) }));
    },
    stateMachine: async (name) =>
      (
        await aws.sfn.send(
          new CreateStateMachineCommand({
            name,
            definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
            roleArn: `arn:aws:iam::${aws.account}:role/fidelity-workflow`,
          }),
        )
      ).stateMachineArn as string,
    table: async (name) => {
      await aws.dynamodb.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    },
  };
  return row(target);
}

/** What a call did: its answer (as the row shapes it) or the error code it failed with. */
export type Outcome<T> = { readonly ok: T } | { readonly error: string };

export async function outcome<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await call() };
  } catch (error) {
    return { error: (error as Error).name };
  }
}
