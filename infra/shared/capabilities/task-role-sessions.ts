import { Arn, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Component, TAG_COMPONENT, TAG_ENV } from '../../../contracts/tag-names';
import { boundedTaskRoles } from '../iam-statements';

/**
 * The session deny: containment puts an inline policy on a site's task role that denies
 * sessions issued before it (`iam:PutRolePolicy`), release lifts it (`iam:DeleteRolePolicy`),
 * the console does both and reads it back.
 */

/** Any role of the account (`arn:<partition>:iam::<account>:role/*`): IAM is global, no region. */
export function anyRoleArn(stack: Stack): string {
  return Arn.format({ service: 'iam', region: '', resource: 'role', resourceName: '*' }, stack);
}

/**
 * These actions on this environment's task roles only, and only those whose boundary caps what
 * any policy put on them can grant (boundedTaskRoles).
 */
export function taskRoleSessionDenyStatement(
  stack: Stack,
  environment: string,
  sid: string,
  actions: readonly string[],
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: [...actions],
    resources: [anyRoleArn(stack)],
    conditions: {
      StringEquals: {
        [`aws:ResourceTag/${TAG_ENV}`]: environment,
        [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.taskRole,
      },
      ...boundedTaskRoles(stack, environment),
    },
  });
}

/** Read the session deny back (`iam:GetRolePolicy`), on this environment's task roles. */
export function readTaskRoleSessionDenyStatement(stack: Stack, environment: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadTaskRoleSessionDeny',
    actions: ['iam:GetRolePolicy'],
    resources: [anyRoleArn(stack)],
    conditions: {
      StringEquals: {
        [`aws:ResourceTag/${TAG_ENV}`]: environment,
        [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.taskRole,
      },
    },
  });
}
