import { Arn, ArnFormat, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { siteTaskFamilyPrefix, siteTaskRoleBoundaryPrefix } from '../../contracts/names';
import { Component, TAG_COMPONENT, TAG_ENV } from '../../contracts/tag-names';

/**
 * IAM statements the response plane's functions and the ops console share, written the way
 * the Service Authorization Reference says AWS evaluates them (docs/iam.md;
 * test/infra/service-authorization.test.ts checks every statement against it).
 */

function ec2Arn(stack: Stack, resource: string): string {
  return Arn.format({ service: 'ec2', resource, resourceName: '*' }, stack);
}

/**
 * `ecs:ListTasks` authorizes against the `container-instance` resource type and takes the
 * `ecs:cluster` condition key (Service Authorization Reference, Amazon ECS). A list of a
 * service's tasks names no container instance, so the statement is written as the CDK team
 * does for its own ListTasks grants (aws/aws-cdk#3199: "remove the cluster as the resource
 * restriction, add the cluster as a resource condition"): any resource, only in these clusters.
 */
export function listTasksInClusters(sid: string, clusterArns: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['ecs:ListTasks'],
    resources: ['*'],
    conditions: { ArnEquals: { 'ecs:cluster': [...clusterArns] } },
  });
}

/**
 * Security-group rule changes on this environment's site groups only (tag-held). Since
 * `ec2:ModifySecurityGroupRules` also authorizes against each `security-group-rule`
 * (required by the reference), and rules carry no tags of their own, the rules get their own
 * statement without a tag condition: every request also names its group (`GroupId`, required:
 * "The ID of the security group", EC2 API Reference, ModifySecurityGroupRules), and the group
 * must be a site group of this environment (held by tag), so both must be allowed.
 */
export function siteGroupRuleStatements(
  stack: Stack,
  environment: string,
  sid: string,
  actions: readonly string[],
): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid,
      actions: [...actions],
      resources: [ec2Arn(stack, 'security-group')],
      conditions: {
        StringEquals: {
          [`aws:ResourceTag/${TAG_ENV}`]: environment,
          // A site's own group and its standby group: during a restore the site's tasks run
          // in the standby group, and a new compromise there must be contained too.
          [`aws:ResourceTag/${TAG_COMPONENT}`]: [Component.siteSecurityGroup, Component.siteStandbySecurityGroup],
        },
      },
    }),
  ];
  if (actions.includes('ec2:ModifySecurityGroupRules')) {
    statements.push(
      new iam.PolicyStatement({
        sid: `${sid}ById`,
        actions: ['ec2:ModifySecurityGroupRules'],
        resources: [ec2Arn(stack, 'security-group-rule')],
      }),
    );
  }
  return statements;
}

/**
 * `ec2:ReplaceNetworkAclAssociation` authorizes against both the `network-acl` and the
 * `subnet` (both required, Service Authorization Reference, Amazon EC2), so each is held on
 * its own: only sites' own subnets (`bulkhead:component=subnet`: every site has them since
 * issue 14; never a shared or watch subnet, tagged `network`, whose move onto the quarantine
 * ACL would cut off every site or endpoint in it), and only the quarantine ACL or a site's
 * own ACL of this environment.
 */
export function siteAclStatements(stack: Stack, environment: string, sid: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: `${sid}Subnets`,
      actions: ['ec2:ReplaceNetworkAclAssociation'],
      resources: [ec2Arn(stack, 'subnet')],
      conditions: {
        StringEquals: {
          [`aws:ResourceTag/${TAG_ENV}`]: environment,
          [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.subnet,
        },
      },
    }),
    new iam.PolicyStatement({
      sid: `${sid}Acls`,
      actions: ['ec2:ReplaceNetworkAclAssociation'],
      resources: [ec2Arn(stack, 'network-acl')],
      conditions: {
        // Several values of one key are ORed; keys are ANDed (IAM JSON policy reference, Condition).
        StringEquals: {
          [`aws:ResourceTag/${TAG_ENV}`]: environment,
          [`aws:ResourceTag/${TAG_COMPONENT}`]: [Component.quarantineAcl, Component.networkAcl],
        },
      },
    }),
  ];
}

/**
 * Only roles that carry a site task-role boundary of this environment
 * (`bulkhead-<env>-task-boundary-<region>-<site>`): whatever policy is put on such a role, it grants
 * no more than its boundary ("An entity's permissions boundary allows it to perform only the
 * actions that are allowed by both its identity-based policies and its permissions boundaries":
 * IAM User Guide, "Permissions boundaries for IAM entities"). `iam:PermissionsBoundary` "Filters
 * access if the specified policy is set as the permissions boundary on the IAM entity"
 * (Service Authorization Reference, IAM: PutRolePolicy, DeleteRolePolicy).
 */
export function boundedTaskRoles(stack: Stack, environment: string): Record<string, Record<string, string>> {
  return {
    ArnLike: {
      'iam:PermissionsBoundary': Arn.format(
        {
          service: 'iam',
          region: '',
          resource: 'policy',
          resourceName: `${siteTaskRoleBoundaryPrefix(environment, stack.region)}*`,
        },
        stack,
      ),
    },
  };
}

/**
 * `ecs:UpdateService` names the task definition a service is moved to in `ecs:task-definition`
 * (Service Authorization Reference, Amazon ECS: UpdateService). When the request names one, it
 * must be a revision of this environment's site families (`bulkhead-<env>-<site>`); a request
 * that names none (a desired count, a new deployment, a security group) has no such key, hence
 * `IfExists`.
 */
export function siteTaskDefinitionsOnly(stack: Stack, environment: string): Record<string, Record<string, string>> {
  return {
    ArnLikeIfExists: {
      'ecs:task-definition': Arn.format(
        { service: 'ecs', resource: 'task-definition', resourceName: `${siteTaskFamilyPrefix(environment)}*:*` },
        stack,
      ),
    },
  };
}

/**
 * An ARN in the stack's own partition, region and account (`arn:${Partition}:<service>:<region>:<account>:<resource>/<name>`),
 * for policy statements that name resources by pattern.
 */
export function stackArn(
  stack: Stack,
  service: string,
  resource: string,
  resourceName?: string,
  arnFormat = ArnFormat.SLASH_RESOURCE_NAME,
): string {
  return Arn.format({ service, resource, resourceName, arnFormat }, stack);
}
