import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  ModifySecurityGroupRulesCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import { type Action, DescribeRulesCommand, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteRolePolicyCommand } from '@aws-sdk/client-iam';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { outcome, type Target } from './fidelity-targets';

/**
 * The behaviours of AWS the response plane relies on, each run against the model and moto by
 * test/emulator/fidelity.test.ts, with the AWS documentation sentence that decides what is
 * right. test/support/aws-model/FIDELITY.md is the same table for people; the test checks the
 * two agree. A row's `aws` is the observation AWS gives (per `source`); `motoGap` records a
 * decided disagreement (moto is wrong; the model keeps AWS's behaviour).
 */
export interface FidelityRow {
  readonly id: string;
  readonly api: string;
  /** What the product relies on this for. */
  readonly reliedOnBy: string;
  readonly source: { readonly quote: string; readonly url: string };
  readonly aws: unknown;
  readonly motoGap?: { readonly observed: unknown; readonly note: string };
  run(target: Target): Promise<unknown>;
}

async function group(ec2: EC2Client, vpcId: string, name: string): Promise<string> {
  return (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId })))
    .GroupId as string;
}

async function rulesOf(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  return (
    (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] })))
      .SecurityGroupRules ?? []
  );
}

/** A rule as the product compares it: direction, protocol, ports, peer kind and peer, description. */
function shape(rule: SecurityGroupRule, names: Record<string, string> = {}) {
  const peer = rule.CidrIpv4
    ? `cidr:${rule.CidrIpv4}`
    : rule.CidrIpv6
      ? `cidr6:${rule.CidrIpv6}`
      : rule.PrefixListId
        ? 'prefix-list'
        : `group:${names[rule.ReferencedGroupInfo?.GroupId ?? ''] ?? '?'}`;
  return {
    egress: rule.IsEgress,
    protocol: rule.IpProtocol,
    ports: `${rule.FromPort}-${rule.ToPort}`,
    peer,
    description: rule.Description ?? null,
  };
}

const byKey = (a: { peer: string; ports: string }, b: { peer: string; ports: string }) =>
  `${a.peer}${a.ports}`.localeCompare(`${b.peer}${b.ports}`);

const EC2_API = 'https://docs.aws.amazon.com/AWSEC2/latest/APIReference';

export const FIDELITY_ROWS: readonly FidelityRow[] = [
  {
    id: 'sg-default-egress',
    api: 'EC2 CreateSecurityGroup',
    reliedOnBy:
      'the emulator world and the model seed groups from templates; quarantine plans revoke every egress rule but the logs one',
    source: {
      quote:
        'When you specify a VPC security group, Amazon EC2 creates a default egress rule that allows egress traffic on all ports and IP protocols to any location.',
      url: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html',
    },
    aws: [{ egress: true, protocol: '-1', ports: '-1--1', peer: 'cidr:0.0.0.0/0', description: null }],
    async run(t) {
      const vpc = await t.vpc();
      const id = await group(t.ec2, vpc, 'fresh');
      return (await rulesOf(t.ec2, id)).map((r) => shape(r));
    },
  },
  {
    id: 'sg-modify-rule-type-change',
    api: 'EC2 ModifySecurityGroupRules',
    reliedOnBy: "containment's one-call rewrite of a group's rules (runtime/contain/quarantine-group.ts)",
    source: {
      quote:
        'When you modify a rule, you cannot change the rule type. For example, if the rule uses an IPv4 address range, you must use CidrIpv4 to specify a new IPv4 address range.',
      url: `${EC2_API}/API_SecurityGroupRuleRequest.html`,
    },
    aws: { call: { error: 'InvalidParameterValue' }, after: { ports: '443-443', peer: 'cidr:0.0.0.0/0' } },
    motoGap: {
      observed: { call: { ok: true }, after: { ports: '1-1', peer: 'cidr:0.0.0.0/0' } },
      note: 'moto accepts the type change, applies the new ports and keeps the old peer',
    },
    async run(t) {
      const vpc = await t.vpc();
      const [a, b] = [await group(t.ec2, vpc, 'a'), await group(t.ec2, vpc, 'b')];
      const added = await t.ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: a,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );
      const ruleId = added.SecurityGroupRules?.[0]?.SecurityGroupRuleId as string;
      const call = await outcome(async () => {
        await t.ec2.send(
          new ModifySecurityGroupRulesCommand({
            GroupId: a,
            SecurityGroupRules: [
              {
                SecurityGroupRuleId: ruleId,
                SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, ReferencedGroupId: b },
              },
            ],
          }),
        );
        return true;
      });
      const rule = (await rulesOf(t.ec2, a)).find((r) => r.SecurityGroupRuleId === ruleId) as SecurityGroupRule;
      const { ports, peer } = shape(rule, { [b]: 'b' });
      return { call: 'ok' in call ? { ok: true } : call, after: { ports, peer } };
    },
  },
  {
    id: 'sg-modify-rule-new-peer',
    api: 'EC2 ModifySecurityGroupRules',
    reliedOnBy: "containment's interim rewrite points each rule at a new peer of its own type",
    source: {
      quote:
        'Modifies the rules of a security group. (SecurityGroupRuleRequest.ReferencedGroupId: "The ID of the security group that is referenced in the security group rule.")',
      url: `${EC2_API}/API_ModifySecurityGroupRules.html`,
    },
    aws: { ports: '1-1', peer: 'group:c' },
    motoGap: {
      observed: { ports: '1-1', peer: 'group:b' },
      note: 'moto applies the new ports and ignores the new referenced group',
    },
    async run(t) {
      const vpc = await t.vpc();
      const [a, b, c] = [await group(t.ec2, vpc, 'a'), await group(t.ec2, vpc, 'b'), await group(t.ec2, vpc, 'c')];
      const added = await t.ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: a,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: b }] }],
        }),
      );
      const ruleId = added.SecurityGroupRules?.[0]?.SecurityGroupRuleId as string;
      await t.ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: a,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: ruleId,
              SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, ReferencedGroupId: c },
            },
          ],
        }),
      );
      const rule = (await rulesOf(t.ec2, a)).find((r) => r.SecurityGroupRuleId === ruleId) as SecurityGroupRule;
      const { ports, peer } = shape(rule, { [b]: 'b', [c]: 'c' });
      return { ports, peer };
    },
  },
  {
    id: 'sg-rule-descriptions',
    api: 'EC2 DescribeSecurityGroupRules',
    reliedOnBy: 'interim rules are recognised by their description (isInterimRule); release compares rules read back',
    source: {
      quote: 'SecurityGroupRule.Description: "The security group rule description."',
      url: `${EC2_API}/API_SecurityGroupRule.html`,
    },
    aws: [
      { peer: 'cidr:0.0.0.0/0', description: 'to the internet' },
      { peer: 'group:b', description: 'to b' },
    ],
    motoGap: {
      observed: [
        { peer: 'cidr:0.0.0.0/0', description: 'to the internet' },
        { peer: 'group:b', description: null },
      ],
      note: 'moto leaves out descriptions of group-referencing (and prefix-list) rules',
    },
    async run(t) {
      const vpc = await t.vpc();
      const [a, b] = [await group(t.ec2, vpc, 'a'), await group(t.ec2, vpc, 'b')];
      await t.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: a,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 443,
              ToPort: 443,
              IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'to the internet' }],
            },
            { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: b, Description: 'to b' }] },
          ],
        }),
      );
      return (await rulesOf(t.ec2, a))
        .filter((r) => !r.IsEgress)
        .map((r) => shape(r, { [b]: 'b' }))
        .sort(byKey)
        .map(({ peer, description }) => ({ peer, description }));
    },
  },
  {
    id: 'sg-revoke-without-description',
    api: 'EC2 RevokeSecurityGroupIngress/Egress (by properties)',
    reliedOnBy: "containment's revoke path and release, which revoke without descriptions",
    source: {
      quote:
        'If the security group rule has a description, you do not need to specify the description to revoke the rule.',
      url: `${EC2_API}/API_RevokeSecurityGroupIngress.html`,
    },
    aws: { call: { ok: true }, left: [] },
    motoGap: {
      observed: { call: { error: 'InvalidPermission.NotFound' }, left: ['group:b'] },
      note: 'moto compares a group pair with its description; the emulator tests go through support/moto-front.ts',
    },
    async run(t) {
      const vpc = await t.vpc();
      const [a, b] = [await group(t.ec2, vpc, 'a'), await group(t.ec2, vpc, 'b')];
      await t.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: a,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 8080,
              ToPort: 8080,
              UserIdGroupPairs: [{ GroupId: b, Description: 'from b' }],
            },
          ],
        }),
      );
      const call = await outcome(async () => {
        await t.ec2.send(
          new RevokeSecurityGroupIngressCommand({
            GroupId: a,
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: b }] }],
          }),
        );
        return true;
      });
      const left = (await rulesOf(t.ec2, a)).filter((r) => !r.IsEgress).map((r) => shape(r, { [b]: 'b' }).peer);
      return { call: 'ok' in call ? { ok: true } : call, left };
    },
  },
  {
    id: 'sg-revoke-unknown-rule',
    api: 'EC2 RevokeSecurityGroupEgress (by properties, non-default VPC)',
    reliedOnBy: 'release and containment treat a failed revoke as "nothing revoked"',
    source: {
      quote:
        "For a non-default VPC, if the values you specify do not match the existing rule's values, an InvalidPermission.NotFound client error is returned, and no rules are revoked.",
      url: `${EC2_API}/API_RevokeSecurityGroupEgress.html`,
    },
    aws: { call: { error: 'InvalidPermission.NotFound' }, left: ['tcp 443-443 cidr:0.0.0.0/0'] },
    motoGap: {
      observed: { call: { error: 'InvalidPermission.NotFound' }, left: [] },
      note: 'moto answers InvalidPermission.NotFound but has already revoked the rules that matched',
    },
    async run(t) {
      const vpc = await t.vpc();
      const a = await group(t.ec2, vpc, 'a');
      const defaults = await rulesOf(t.ec2, a);
      await t.ec2.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: a,
          SecurityGroupRuleIds: defaults.map((r) => r.SecurityGroupRuleId as string),
        }),
      );
      await t.ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: a,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );
      const call = await outcome(async () => {
        await t.ec2.send(
          new RevokeSecurityGroupEgressCommand({
            GroupId: a,
            IpPermissions: [
              { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
              { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
            ],
          }),
        );
        return true;
      });
      const left = (await rulesOf(t.ec2, a)).map((r) => {
        const s = shape(r);
        return `${s.protocol} ${s.ports} ${s.peer}`;
      });
      return { call: 'ok' in call ? { ok: true } : call, left };
    },
  },
  {
    id: 'sg-authorize-duplicate',
    api: 'EC2 AuthorizeSecurityGroupEgress',
    reliedOnBy: 'release authorizes only saved rules that are not there (restoreGroup)',
    source: {
      quote:
        'InvalidPermission.Duplicate: The specified inbound or outbound rule already exists for that security group.',
      url: 'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html',
    },
    aws: { error: 'InvalidPermission.Duplicate' },
    async run(t) {
      const vpc = await t.vpc();
      const a = await group(t.ec2, vpc, 'a');
      const permission = { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] };
      await t.ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: a, IpPermissions: [permission] }));
      return outcome(async () => {
        await t.ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: a, IpPermissions: [permission] }));
        return true;
      });
    },
  },
  {
    id: 'ec2-tag-filters',
    api: 'EC2 DescribeSecurityGroups (Filters tag:<key>)',
    reliedOnBy: "containment finds a site's group and ACL by Bulkhead's tags (siteTagFilters)",
    source: {
      quote:
        'If you specify multiple filters, the filters are joined with an AND, and the request returns only results that match all of the specified filters.',
      url: `${EC2_API}/API_Filter.html`,
    },
    aws: { both: ['a'], either: ['a', 'b'] },
    async run(t) {
      const vpc = await t.vpc();
      const tagged = async (name: string, site: string, component: string) =>
        (
          await t.ec2.send(
            new CreateSecurityGroupCommand({
              GroupName: name,
              Description: name,
              VpcId: vpc,
              TagSpecifications: [
                {
                  ResourceType: 'security-group',
                  Tags: [
                    { Key: 'bulkhead:site', Value: site },
                    { Key: 'bulkhead:component', Value: component },
                  ],
                },
              ],
            }),
          )
        ).GroupId;
      await tagged('a', 'acme', 'site-sg');
      await tagged('b', 'shop', 'site-sg');
      await tagged('c', 'acme', 'site-sg-standby');
      const names = async (filters: { Name: string; Values: string[] }[]) =>
        ((await t.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }))).SecurityGroups ?? [])
          .map((g) => g.GroupName as string)
          .sort();
      return {
        both: await names([
          { Name: 'tag:bulkhead:site', Values: ['acme'] },
          { Name: 'tag:bulkhead:component', Values: ['site-sg'] },
        ]),
        either: await names([
          { Name: 'tag:bulkhead:site', Values: ['acme', 'shop'] },
          { Name: 'tag:bulkhead:component', Values: ['site-sg'] },
        ]),
      };
    },
  },
  {
    id: 'acl-replace-association',
    api: 'EC2 ReplaceNetworkAclAssociation',
    reliedOnBy: "strict sites' quarantine swaps their subnets onto the deny-all ACL; release swaps them back",
    source: {
      quote:
        "Changes which network ACL a subnet is associated with. By default when you create a subnet, it's automatically associated with the default network ACL.",
      url: `${EC2_API}/API_ReplaceNetworkAclAssociation.html`,
    },
    aws: { before: 'default', after: 'quarantine', newAssociationId: true },
    async run(t) {
      const vpc = await t.vpc();
      const subnet = await t.subnet(vpc, '10.0.1.0/24');
      const read = async () =>
        (
          await t.ec2.send(
            new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnet] }] }),
          )
        ).NetworkAcls ?? [];
      const [current] = await read();
      const quarantine = await t.networkAcl(vpc);
      const association = current?.Associations?.find((a) => a.SubnetId === subnet)?.NetworkAclAssociationId;
      const replaced = await t.ec2.send(
        new ReplaceNetworkAclAssociationCommand({ AssociationId: association, NetworkAclId: quarantine }),
      );
      const [after] = await read();
      return {
        before: current?.IsDefault ? 'default' : current?.NetworkAclId,
        after: after?.NetworkAclId === quarantine ? 'quarantine' : after?.NetworkAclId,
        newAssociationId: Boolean(replaced.NewAssociationId) && replaced.NewAssociationId !== association,
      };
    },
  },
  {
    id: 'elb-forward-action-normalisation',
    api: 'ELBv2 DescribeRules (forward action)',
    reliedOnBy:
      'containment saves the rule actions it read; release compares them with what it reads back (drift) and puts them back',
    source: {
      quote:
        'ForwardConfig: "If you specify both ForwardConfig and TargetGroupArn, you can specify only one target group using ForwardConfig and it must be the same target group specified in TargetGroupArn." What DescribeRules returns for a rule given only TargetGroupArn is not documented; a public report of AWS\'s answer (getmoto/moto#4716) shows ForwardConfig with the group at Weight 1 and stickiness off.',
      url: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html',
    },
    aws: {
      Type: 'forward',
      TargetGroupArn: 'tg',
      ForwardConfig: {
        TargetGroups: [{ TargetGroupArn: 'tg', Weight: 1 }],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    },
    motoGap: {
      observed: { Type: 'forward', TargetGroupArn: 'tg' },
      note: 'moto answers only what was given (no ForwardConfig)',
    },
    async run(t) {
      const vpc = await t.vpc();
      const subnet = await t.subnet(vpc, '10.0.2.0/24');
      const { ruleArn, targetGroupArn } = await t.forwardRule(vpc, subnet);
      const [action] =
        (await t.elbv2.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }))).Rules?.[0]?.Actions ?? [];
      const { Order: _order, ...rest } = action as Action;
      return JSON.parse(JSON.stringify(rest).replaceAll(targetGroupArn, 'tg'));
    },
  },
  {
    id: 'elb-fixed-response-round-trip',
    api: 'ELBv2 ModifyRule + DescribeRules (fixed-response)',
    reliedOnBy:
      'release recognises the maintenance response it finds (isMaintenanceResponse) before putting actions back',
    source: {
      quote:
        'ModifyRule: "Replaces the specified properties of the specified rule. Any properties that you do not specify are unchanged."',
      url: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html',
    },
    aws: [
      {
        Type: 'fixed-response',
        FixedResponseConfig: { StatusCode: '503', ContentType: 'text/html', MessageBody: '<h1>maintenance</h1>' },
      },
    ],
    async run(t) {
      const vpc = await t.vpc();
      const subnet = await t.subnet(vpc, '10.0.3.0/24');
      const { ruleArn } = await t.forwardRule(vpc, subnet);
      await t.elbv2.send(
        new ModifyRuleCommand({
          RuleArn: ruleArn,
          Actions: [
            {
              Type: 'fixed-response',
              FixedResponseConfig: { StatusCode: '503', ContentType: 'text/html', MessageBody: '<h1>maintenance</h1>' },
            },
          ],
        }),
      );
      const actions = (await t.elbv2.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }))).Rules?.[0]?.Actions;
      return (actions ?? []).map(({ Order: _order, ...a }) => a);
    },
  },
  {
    id: 'ecs-task-tags',
    api: 'ECS DescribeTasks (include TAGS)',
    reliedOnBy: "containment resolves the site of a finding from its task's tags (resolve-site.ts)",
    source: {
      quote:
        'include: "Specifies whether you want to see the resource tags for the task. If TAGS is specified, the tags are included in the response. If this field is omitted, tags aren\'t included in the response."',
      url: 'https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html',
    },
    aws: { withTags: [{ key: 'bulkhead:site', value: 'acme' }], without: [] },
    async run(t) {
      const vpc = await t.vpc();
      const subnet = await t.subnet(vpc, '10.0.4.0/24');
      const g = await group(t.ec2, vpc, 'task');
      const { cluster, taskArn } = await t.taggedTask(subnet, g, [{ key: 'bulkhead:site', value: 'acme' }]);
      const read = async (include: boolean) =>
        (
          await t.ecs.send(
            new DescribeTasksCommand({ cluster, tasks: [taskArn], ...(include ? { include: ['TAGS'] } : {}) }),
          )
        ).tasks?.[0]?.tags ?? [];
      return { withTags: await read(true), without: await read(false) };
    },
  },
  {
    id: 'iam-delete-missing-role-policy',
    api: 'IAM DeleteRolePolicy',
    reliedOnBy: 'release lifts the session deny without reading first; a missing policy is "skipped"',
    source: {
      quote:
        'NoSuchEntityException: "The request was rejected because it referenced a resource entity that does not exist."',
      url: 'https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePolicy.html',
    },
    aws: { error: 'NoSuchEntityException' },
    async run(t) {
      await t.role('fidelity-task-role');
      return outcome(() =>
        t.iam.send(
          new DeleteRolePolicyCommand({ RoleName: 'fidelity-task-role', PolicyName: 'BulkheadRevokeOlderSessions' }),
        ),
      ).then((o) => ('ok' in o ? { ok: true } : o));
    },
  },
  {
    id: 'sfn-start-execution-idempotent',
    api: 'Step Functions StartExecution',
    reliedOnBy: "a later delivery starts an incident's workflow again by the same name and input",
    source: {
      quote:
        'StartExecution is idempotent for STANDARD workflows. For a STANDARD workflow, if you call StartExecution with the same name and input as a running execution, the call succeeds and return the same response as the original request.',
      url: 'https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html',
    },
    aws: { again: { ok: 'same execution' }, otherInput: { error: 'ExecutionAlreadyExists' } },
    async run(t) {
      const machine = await t.stateMachine('fidelity-workflow');
      const start = async (input: string) =>
        (await t.sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'incident-1', input })))
          .executionArn;
      const first = await start('{"incidentId":"incident-1"}');
      const again = await outcome(() => start('{"incidentId":"incident-1"}'));
      const otherInput = await outcome(() => start('{"incidentId":"incident-2"}'));
      return {
        again: 'ok' in again ? { ok: again.ok === first ? 'same execution' : 'another execution' } : again,
        otherInput: 'ok' in otherInput ? { ok: 'started' } : otherInput,
      };
    },
  },
  {
    id: 'ddb-conditional-put',
    api: 'DynamoDB PutItem (ConditionExpression attribute_not_exists)',
    reliedOnBy: "a site's incident lock (IncidentStore.openOrJoin) and incident creation",
    source: {
      quote:
        'ConditionalCheckFailedException: "A condition specified in the operation failed to be evaluated." (PutItem: "You can perform a conditional put operation (add a new item if one with the specified primary key doesn\'t exist)")',
      url: 'https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html',
    },
    aws: { first: { ok: true }, second: { error: 'ConditionalCheckFailedException' }, holder: 'incident-1' },
    async run(t) {
      await t.table('fidelity-incidents');
      const lock = (incident: string) =>
        outcome(async () => {
          await t.dynamodb.send(
            new PutItemCommand({
              TableName: 'fidelity-incidents',
              Item: { pk: { S: 'SITE#acme' }, sk: { S: 'LOCK' }, openIncidentId: { S: incident } },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
          return true;
        });
      const first = await lock('incident-1');
      const second = await lock('incident-2');
      const item = await t.dynamodb.send(
        new GetItemCommand({
          TableName: 'fidelity-incidents',
          Key: { pk: { S: 'SITE#acme' }, sk: { S: 'LOCK' } },
          ConsistentRead: true,
        }),
      );
      return { first, second, holder: item.Item?.openIncidentId?.S };
    },
  },
  {
    id: 'ssm-missing-parameter',
    api: 'SSM GetParameter',
    reliedOnBy: 'an event about a site without a record is ignored as unknown-site (loadSiteRecord)',
    source: {
      quote:
        'ParameterNotFound: "The parameter couldn\'t be found. Verify the name and try again." ... "For the DeleteParameter and GetParameter actions, if the specified parameter doesn\'t exist, the ParameterNotFound exception is not recorded in CloudTrail."',
      url: 'https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html',
    },
    aws: { error: 'ParameterNotFound' },
    async run(t) {
      return outcome(() => t.ssm.send(new GetParameterCommand({ Name: '/bulkhead/test/sites/nobody' })));
    },
  },
];
