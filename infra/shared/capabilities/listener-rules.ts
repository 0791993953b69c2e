import { Fn, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Component, TAG_COMPONENT, TAG_ENV } from '../../../contracts/tag-names';
import { stackArn } from '../iam-statements';

/**
 * A site's listener rule in its cell's load balancer: containment sheds the site's traffic
 * there (a maintenance page), release and restore put the saved actions back, and a restore
 * probes its new tasks through a rule of its own. Listener rules cannot be tagged through
 * CloudFormation, so these statements name rules by ARN: rules of the cells' own listeners.
 */

/** Rules of the given listeners (`.../listener-rule/app/<lb>/<id>/<listener>/*`). */
export function listenerRuleArns(listenerArns: readonly string[]): string[] {
  return listenerArns.map((arn) =>
    Fn.join('', [
      Fn.select(0, Fn.split(':listener/', arn)),
      ':listener-rule/',
      Fn.select(1, Fn.split(':listener/', arn)),
      '/*',
    ]),
  );
}

/**
 * `elasticloadbalancing:ModifyRule` on the rules of the cells' listeners: shed a site's traffic
 * (`ShedSiteTraffic`), put its actions back (`RestoreListenerRules`), or both (the console's
 * `ShedAndReopenSiteListenerRules`).
 */
export function siteListenerRuleStatement(sid: string, ruleArns: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['elasticloadbalancing:ModifyRule'],
    resources: [...ruleArns],
  });
}

/**
 * A restore's probe rule: created on a cell listener, tagged as it is created (the tag names it
 * Bulkhead's), and deleted only when it carries that tag; and the contained targets taken out of
 * this environment's target groups.
 */
export function restoreProbeStatements(
  stack: Stack,
  environment: string,
  listenerArns: readonly string[],
  ruleArns: readonly string[],
): iam.PolicyStatement[] {
  const taggedForEnv = { [`aws:ResourceTag/${TAG_ENV}`]: environment };
  return [
    new iam.PolicyStatement({
      sid: 'CreateProbeRules',
      actions: ['elasticloadbalancing:CreateRule'],
      resources: [...listenerArns],
    }),
    new iam.PolicyStatement({
      sid: 'TagProbeRulesOnCreate',
      actions: ['elasticloadbalancing:AddTags'],
      resources: [...ruleArns],
      conditions: { StringEquals: { 'elasticloadbalancing:CreateAction': 'CreateRule' } },
    }),
    new iam.PolicyStatement({
      sid: 'RemoveOwnProbeRules',
      actions: ['elasticloadbalancing:DeleteRule'],
      resources: [...ruleArns],
      conditions: {
        StringEquals: { ...taggedForEnv, [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.restoreProbeRule },
      },
    }),
    new iam.PolicyStatement({
      sid: 'TakeContainedTargetsOut',
      actions: ['elasticloadbalancing:DeregisterTargets'],
      resources: [stackArn(stack, 'elasticloadbalancing', 'targetgroup', '*')],
      conditions: {
        StringEquals: { ...taggedForEnv, [`aws:ResourceTag/${TAG_COMPONENT}`]: Component.targetGroup },
      },
    }),
  ];
}
