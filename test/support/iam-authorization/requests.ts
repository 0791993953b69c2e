import type { AwsModel } from '../aws-model';
import type { ServiceName } from '../aws-model/service-names';

/**
 * What IAM evaluates for one AWS call: the action(s), the resource(s) each authorizes against
 * (with their tags, `aws:ResourceTag/<key>`) and the request's own context keys, per the
 * Service Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/).
 * The resource's tags are read from the model as the call finds it.
 */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Request context keys other than the resource's tags (ecs:cluster, aws:RequestTag/..., iam:PassedToService). */
  readonly context: Readonly<Record<string, string | string[]>>;
}

type Input = Record<string, unknown>;
type TagList = { Key?: string; Value?: string; key?: string; value?: string }[] | undefined;

function tagMap(tags: TagList): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? t.key ?? '', t.Value ?? t.value ?? '']));
}

/** The service prefix of each modelled service in IAM (Service Authorization Reference). */
const PREFIX: Record<ServiceName, string> = {
  EC2: 'ec2',
  ECS: 'ecs',
  ELBv2: 'elasticloadbalancing',
  IAM: 'iam',
  SecretsManager: 'secretsmanager',
  S3: 's3',
  SNS: 'sns',
  SFN: 'states',
  DynamoDB: 'dynamodb',
  CloudWatch: 'cloudwatch',
  CloudWatchLogs: 'logs',
  Backup: 'backup',
  Lambda: 'lambda',
  SSM: 'ssm',
};

/** Actions whose name differs from the API operation's (Service Authorization Reference). */
const RENAMED: Record<string, string> = {
  'Lambda:Invoke': 'lambda:InvokeFunction',
  'S3:ListObjectsV2': 's3:ListBucket',
  'S3:HeadObject': 's3:GetObject',
};

export class UnmappedCallError extends Error {
  override readonly name = 'UnmappedCallError';
}

export function iamRequestsOf(model: AwsModel, service: ServiceName, command: string, input: Input): IamRequest[] {
  const region = model.region;
  const account = model.accountId;
  const action = RENAMED[`${service}:${command}`] ?? `${PREFIX[service]}:${command}`;
  const one = (resource: string, tags: Record<string, string> = {}, context: IamRequest['context'] = {}) => ({
    action,
    resource,
    tags,
    context,
  });
  const anyResource = () => [one('*')];

  switch (service) {
    case 'EC2': {
      const ec2 = model.ec2.state;
      const group = (id: unknown) =>
        one(
          `arn:aws:ec2:${region}:${account}:security-group/${String(id)}`,
          tagMap(ec2.securityGroups[String(id)]?.Tags),
        );
      if (command.startsWith('Describe')) return anyResource();
      switch (command) {
        case 'AuthorizeSecurityGroupIngress':
        case 'AuthorizeSecurityGroupEgress':
        case 'RevokeSecurityGroupIngress':
        case 'RevokeSecurityGroupEgress':
          return [group(input.GroupId)];
        case 'ModifySecurityGroupRules':
          return [
            group(input.GroupId),
            ...((input.SecurityGroupRules as { SecurityGroupRuleId?: string }[] | undefined) ?? []).map((r) =>
              one(`arn:aws:ec2:${region}:${account}:security-group-rule/${r.SecurityGroupRuleId}`),
            ),
          ];
        case 'ReplaceNetworkAclAssociation': {
          const association = ec2.aclAssociations[String(input.AssociationId)];
          const subnet = association?.SubnetId ?? 'unknown';
          return [
            one(
              `arn:aws:ec2:${region}:${account}:network-acl/${String(input.NetworkAclId)}`,
              tagMap(ec2.networkAcls[String(input.NetworkAclId)]?.Tags),
            ),
            one(`arn:aws:ec2:${region}:${account}:subnet/${subnet}`, tagMap(ec2.subnets[subnet]?.Tags)),
          ];
        }
        case 'ModifyNetworkInterfaceAttribute':
          return [
            one(`arn:aws:ec2:${region}:${account}:network-interface/${String(input.NetworkInterfaceId)}`),
            ...((input.Groups as string[] | undefined) ?? []).map((g) => group(g)),
          ];
        default:
          break;
      }
      break;
    }
    case 'ECS': {
      const ecs = model.ecs.state;
      const cluster = ecs.clusters[String(input.cluster)] ??
        Object.values(ecs.clusters).find((c) => c.clusterName === input.cluster) ?? {
          clusterArn: `arn:aws:ecs:${region}:${account}:cluster/${String(input.cluster ?? 'default')}`,
          clusterName: String(input.cluster ?? 'default'),
        };
      const inCluster = { 'ecs:cluster': cluster.clusterArn };
      const taskArn = (ref: string) =>
        ref.startsWith('arn:') ? ref : `arn:aws:ecs:${region}:${account}:task/${cluster.clusterName}/${ref}`;
      const task = (ref: string) => {
        const arn = taskArn(ref);
        return one(arn, tagMap(ecs.tasks[arn]?.tags), inCluster);
      };
      const serviceArn = (ref: unknown) =>
        String(ref).startsWith('arn:')
          ? String(ref)
          : `arn:aws:ecs:${region}:${account}:service/${cluster.clusterName}/${String(ref)}`;
      const svc = (ref: unknown) => {
        const arn = serviceArn(ref);
        return one(arn, tagMap(ecs.services[arn]?.tags), inCluster);
      };
      switch (command) {
        case 'DescribeTasks':
          return ((input.tasks as string[] | undefined) ?? []).map(task);
        case 'StopTask':
          return [task(String(input.task))];
        case 'UpdateTaskProtection':
        case 'GetTaskProtection':
          return ((input.tasks as string[] | undefined) ?? []).map(task);
        case 'ListTasks':
          // Authorizes against container-instance with the ecs:cluster key (infra/shared/iam-statements.ts).
          return [one('*', {}, inCluster)];
        case 'DescribeServices':
          return ((input.services as string[] | undefined) ?? []).map(svc);
        case 'UpdateService':
          return [svc(input.service)];
        case 'DescribeTaskDefinition':
        case 'ListTaskDefinitions':
        case 'ListServices':
        case 'DescribeClusters':
          return anyResource();
        case 'RegisterTaskDefinition': {
          const tags = tagMap(input.tags as TagList);
          return [
            one(
              `arn:aws:ecs:${region}:${account}:task-definition/${String(input.family)}:*`,
              {},
              {
                ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
                ...(Object.keys(tags).length ? { 'aws:TagKeys': Object.keys(tags) } : {}),
              },
            ),
          ];
        }
        case 'TagResource': {
          const arn = String(input.resourceArn);
          const tags = tagMap(input.tags as TagList);
          const existing = arn.includes(':service/') ? ecs.services[arn]?.tags : ecs.tasks[arn]?.tags;
          return [
            one(arn, tagMap(existing), {
              ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
              'aws:TagKeys': Object.keys(tags),
            }),
          ];
        }
        default:
          break;
      }
      break;
    }
    case 'ELBv2': {
      const tags = model.elbv2.state.tags as Record<string, TagList>;
      switch (command) {
        case 'DescribeRules':
        case 'DescribeTargetHealth':
        case 'DescribeTags':
        case 'DescribeTargetGroups':
        case 'DescribeListeners':
        case 'DescribeLoadBalancers':
          return anyResource();
        case 'ModifyRule':
        case 'DeleteRule':
          return [one(String(input.RuleArn), tagMap(tags[String(input.RuleArn)]))];
        case 'CreateRule': {
          const requestTags = tagMap(input.Tags as TagList);
          const listener = String(input.ListenerArn);
          // The rule's own ARN is known only once it exists; AddTags authorizes against it.
          const ruleArns = `${listener.replace(':listener/', ':listener-rule/')}/0000000000000000`;
          const context = {
            ...Object.fromEntries(Object.entries(requestTags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
            ...(Object.keys(requestTags).length ? { 'aws:TagKeys': Object.keys(requestTags) } : {}),
          };
          return [
            one(listener, tagMap(tags[listener]), context),
            ...(Object.keys(requestTags).length
              ? [
                  {
                    action: 'elasticloadbalancing:AddTags',
                    resource: ruleArns,
                    tags: {},
                    context: { ...context, 'elasticloadbalancing:CreateAction': 'CreateRule' },
                  },
                ]
              : []),
          ];
        }
        case 'RegisterTargets':
        case 'DeregisterTargets':
          return [one(String(input.TargetGroupArn), tagMap(tags[String(input.TargetGroupArn)]))];
        case 'AddTags':
        case 'RemoveTags':
          return ((input.ResourceArns as string[] | undefined) ?? []).map((arn) => one(arn, tagMap(tags[arn])));
        default:
          break;
      }
      break;
    }
    case 'IAM': {
      const name = String(input.RoleName);
      const role = model.iam.state.roles[name.toLowerCase()] as
        { Arn: string; Tags: TagList; PermissionsBoundary?: { PermissionsBoundaryArn: string } } | undefined;
      // iam:PermissionsBoundary "Filters access if the specified policy is set as the permissions
      // boundary on the IAM entity (user or role)" (Service Authorization Reference, IAM; listed
      // for PutRolePolicy and DeleteRolePolicy among others).
      const boundary = role?.PermissionsBoundary?.PermissionsBoundaryArn;
      return [
        one(
          role?.Arn ?? `arn:aws:iam::${account}:role/${name}`,
          tagMap(role?.Tags),
          boundary ? { 'iam:PermissionsBoundary': boundary } : {},
        ),
      ];
    }
    case 'SSM': {
      const arn = (name: string) => `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`;
      const params = model.ssm.state.parameters as Record<string, { Tags: TagList }>;
      switch (command) {
        case 'GetParameter':
          return [one(arn(String(input.Name)), tagMap(params[String(input.Name)]?.Tags))];
        case 'GetParameters':
          return ((input.Names as string[] | undefined) ?? []).map((n) => one(arn(n), tagMap(params[n]?.Tags)));
        case 'GetParametersByPath':
          return [one(arn(String(input.Path)))];
        default:
          break;
      }
      break;
    }
    case 'DynamoDB': {
      const table = (name: unknown) => `arn:aws:dynamodb:${region}:${account}:table/${String(name)}`;
      switch (command) {
        case 'Query':
        case 'Scan':
          return [
            one(
              input.IndexName ? `${table(input.TableName)}/index/${String(input.IndexName)}` : table(input.TableName),
            ),
          ];
        case 'BatchGetItem':
        case 'BatchWriteItem':
          return Object.keys((input.RequestItems as object | undefined) ?? {}).map((t) => one(table(t)));
        case 'TransactWriteItems':
          return ((input.TransactItems as Record<string, { TableName?: string }>[] | undefined) ?? []).flatMap((item) =>
            Object.entries(item).map(([kind, op]) => ({
              action: `dynamodb:${kind === 'Put' ? 'PutItem' : kind === 'Update' ? 'UpdateItem' : kind === 'Delete' ? 'DeleteItem' : 'ConditionCheckItem'}`,
              resource: table(op.TableName),
              tags: {},
              context: {},
            })),
          );
        case 'TransactGetItems':
          return ((input.TransactItems as { Get?: { TableName?: string } }[] | undefined) ?? []).map((item) => ({
            action: 'dynamodb:GetItem',
            resource: table(item.Get?.TableName),
            tags: {},
            context: {},
          }));
        default:
          return [one(table(input.TableName))];
      }
    }
    case 'SFN':
      switch (command) {
        case 'StartExecution':
          return [one(String(input.stateMachineArn))];
        case 'DescribeExecution':
        case 'StopExecution':
          return [one(String(input.executionArn))];
        case 'SendTaskSuccess':
        case 'SendTaskFailure':
        case 'SendTaskHeartbeat':
          return anyResource();
        default:
          break;
      }
      break;
    case 'S3': {
      const bucket = String(input.Bucket);
      if (command === 'ListObjectsV2') return [one(`arn:aws:s3:::${bucket}`)];
      return [one(`arn:aws:s3:::${bucket}/${String(input.Key)}`)];
    }
    case 'SNS':
      return [one(String(input.TopicArn))];
    case 'CloudWatch':
      if (command === 'PutMetricData') return [one('*', {}, { 'cloudwatch:namespace': String(input.Namespace) })];
      return anyResource();
    case 'CloudWatchLogs':
      if (command === 'FilterLogEvents' || command === 'GetLogEvents' || command === 'DescribeLogStreams') {
        // LogGroup.arn (CloudWatch Logs API reference): "This version of the ARN includes a trailing
        // :* after the log group name. Use this version to refer to the ARN in IAM policies when
        // specifying permissions for most API actions." (not TagResource, UntagResource, ListTagsForResource)
        return [one(`arn:aws:logs:${region}:${account}:log-group:${String(input.logGroupName)}:*`)];
      }
      break;
    case 'Backup':
      if (command === 'StartBackupJob') {
        return [
          one(`arn:aws:backup:${region}:${account}:backup-vault:${String(input.BackupVaultName)}`),
          {
            action: 'iam:PassRole',
            resource: String(input.IamRoleArn),
            tags: {},
            context: { 'iam:PassedToService': 'backup.amazonaws.com' },
          },
        ];
      }
      if (command === 'DescribeBackupJob') return anyResource();
      break;
    case 'Lambda': {
      const fn = String(input.FunctionName);
      return [one(fn.startsWith('arn:') ? fn : `arn:aws:lambda:${region}:${account}:function:${fn}`)];
    }
    case 'SecretsManager': {
      if (command === 'GetRandomPassword') return anyResource();
      const id = String(input.SecretId);
      const secrets = model.secretsManager.state.secrets as Record<
        string,
        { ARN: string; Name: string; Tags: TagList }
      >;
      const secret = Object.values(secrets).find((s) => s.ARN === id || s.Name === id);
      return [one(secret?.ARN ?? id, tagMap(secret?.Tags))];
    }
  }
  throw new UnmappedCallError(
    `no IAM mapping for ${service}:${command} (test/support/iam-authorization/requests.ts): add its action and resources per the Service Authorization Reference`,
  );
}
