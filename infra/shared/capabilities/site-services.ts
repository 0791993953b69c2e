import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { siteTaskFamilyPrefix } from '../../../contracts/names';
import { Component, TAG_COMPONENT, TAG_ENV, TAG_SECURITY_GROUP } from '../../../contracts/tag-names';
import { listTasksInClusters, siteTaskDefinitionsOnly, stackArn } from '../iam-statements';
import { anyRoleArn } from './task-role-sessions';

/**
 * A site's ECS service and tasks in Bulkhead's own clusters (`bulkhead-<env>-<cell>`): read
 * them, list them, redeploy or stop a service, and deploy a known-good revision.
 */

/** Tasks of the given clusters (`task/<cluster>/*`). */
export function clusterTaskArns(stack: Stack, clusterNames: readonly string[]): string[] {
  return clusterNames.map((name) => stackArn(stack, 'ecs', 'task', `${name}/*`));
}

/** Services of the given clusters (`service/<cluster>/*`). */
export function clusterServiceArns(stack: Stack, clusterNames: readonly string[]): string[] {
  return clusterNames.map((name) => stackArn(stack, 'ecs', 'service', `${name}/*`));
}

/** The clusters themselves (`cluster/<cluster>`). */
export function clusterArns(stack: Stack, clusterNames: readonly string[]): string[] {
  return clusterNames.map((name) => stackArn(stack, 'ecs', 'cluster', name));
}

/** These actions on tasks of Bulkhead's clusters (describe, stop, protect). */
export function siteTasksStatement(
  stack: Stack,
  clusterNames: readonly string[],
  sid: string,
  actions: readonly string[],
): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions: [...actions], resources: clusterTaskArns(stack, clusterNames) });
}

/** `ecs:ListTasks` in Bulkhead's clusters only (the `ecs:cluster` condition: listTasksInClusters). */
export function listSiteTasksStatement(
  stack: Stack,
  clusterNames: readonly string[],
  sid = 'ListSiteTasks',
): iam.PolicyStatement {
  return listTasksInClusters(sid, clusterArns(stack, clusterNames));
}

/** `ecs:DescribeServices` on services of Bulkhead's clusters (read-only). */
export function readSiteServicesStatement(stack: Stack, clusterNames: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadSiteServices',
    actions: ['ecs:DescribeServices'],
    resources: clusterServiceArns(stack, clusterNames),
  });
}

/**
 * `ecs:UpdateService` on this environment's site services (tag), and only to revisions of
 * this environment's site families when the request names one (siteTaskDefinitionsOnly): a
 * known-good revision (restore), a new deployment (rotation) or a desired count of 0 (a hold
 * that ends with no restore).
 */
export function updateSiteServicesStatement(
  stack: Stack,
  environment: string,
  clusterNames: readonly string[],
  sid: string,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['ecs:UpdateService'],
    resources: clusterServiceArns(stack, clusterNames),
    conditions: {
      StringEquals: {
        [`aws:ResourceTag/${TAG_ENV}`]: environment,
        [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.service,
      },
      ...siteTaskDefinitionsOnly(stack, environment),
    },
  });
}

/**
 * What a restore needs to deploy a site's known-good image: move its service to a new revision
 * (and between its own and its standby group), keep the contained tasks through the hold, list
 * and read them, register a revision that differs only in the image (tagged at registration),
 * and pass the site's own roles to it.
 */
export function deployKnownGoodRevisionStatements(
  stack: Stack,
  environment: string,
  clusterNames: readonly string[],
): iam.PolicyStatement[] {
  const taggedForEnv = { [`aws:ResourceTag/${TAG_ENV}`]: environment };
  const siteServices = clusterServiceArns(stack, clusterNames);
  // Revisions of this environment's site families only, carrying the environment's tag; the
  // tags go on at registration (ecs:CreateAction, Service Authorization Reference, Amazon ECS),
  // so TagResource cannot touch any task definition that already exists.
  const siteRevisions = stackArn(stack, 'ecs', 'task-definition', `${siteTaskFamilyPrefix(environment)}*:*`);
  return [
    updateSiteServicesStatement(stack, environment, clusterNames, 'DeployKnownGoodRevisions'),
    new iam.PolicyStatement({
      sid: 'ReadDeployedServices',
      actions: ['ecs:DescribeServices'],
      resources: siteServices,
      conditions: { StringEquals: taggedForEnv },
    }),
    // A restore moves the service between its own and its standby group, and says so in the
    // one tag containment reads (bulkhead:security-group); this role may set no other tag.
    new iam.PolicyStatement({
      sid: 'RetagServiceSecurityGroup',
      actions: ['ecs:TagResource'],
      resources: siteServices,
      conditions: {
        StringEquals: taggedForEnv,
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG_SECURITY_GROUP] },
      },
    }),
    siteTasksStatement(stack, clusterNames, 'ProtectAndReadSiteTasks', [
      'ecs:UpdateTaskProtection',
      'ecs:DescribeTasks',
    ]),
    listSiteTasksStatement(stack, clusterNames),
    new iam.PolicyStatement({
      sid: 'RegisterRevisions',
      actions: ['ecs:RegisterTaskDefinition'],
      resources: [siteRevisions],
      conditions: { StringEquals: { [`aws:RequestTag/${TAG_ENV}`]: environment } },
    }),
    new iam.PolicyStatement({
      sid: 'TagRevisionsOnRegister',
      actions: ['ecs:TagResource'],
      resources: [siteRevisions],
      conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
    }),
    readTaskDefinitionsStatement(),
    new iam.PolicyStatement({
      sid: 'PassSiteRolesToEcs',
      actions: ['iam:PassRole'],
      resources: [anyRoleArn(stack)],
      // Site task and execution roles of this environment, to ECS tasks, and nothing else.
      conditions: {
        StringEquals: {
          ...taggedForEnv,
          [`aws:ResourceTag/${TAG_COMPONENT}`]: [Component.taskRole, Component.executionRole],
          'iam:PassedToService': 'ecs-tasks.amazonaws.com',
        },
      },
    }),
  ];
}

/** `ecs:DescribeTaskDefinition` supports no resource-level permissions (read-only). */
export function readTaskDefinitionsStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadTaskDefinitions',
    actions: ['ecs:DescribeTaskDefinition'],
    resources: ['*'],
  });
}
