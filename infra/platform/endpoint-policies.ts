import { CfnMapping, type Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  ECR_PULL_ACTIONS,
  GUARDDUTY_AGENT_ACCOUNTS,
  GUARDDUTY_AGENT_REPOSITORY,
  guardDutyAgentRepositoryArn,
} from '../../contracts/guardduty';

/**
 * The endpoint policies of the fleet's VPC endpoints: data goes through them to this account's
 * resources, by this account's principals, and nowhere else.
 *
 * Without a policy, "AWS attaches a default policy for you that allows full access to the service
 * through the endpoint" (AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint
 * policies"): a compromised site could upload to an attacker's bucket with a presigned URL (the
 * attacker's credentials, none of ours) through the S3 gateway endpoint, or write to another
 * account's log group through the Logs endpoint that a quarantined site keeps.
 *
 * - `aws:PrincipalAccount`: "the account to which the requesting principal belongs" (IAM User
 *   Guide, "AWS global condition context keys"); a presigned URL or another account's keys carry
 *   that other account.
 * - `aws:ResourceAccount`: "the requested resource owner's AWS account ID"; "This key is always
 *   included in the request context for most service actions" (the exceptions listed there are
 *   none of S3, CloudWatch Logs, Secrets Manager or ECR).
 * - An endpoint policy does not grant: "VPC endpoint policies do not grant any permissions;
 *   instead, they establish a boundary that is the maximum access allowed through the endpoint"
 *   (aws-samples/data-perimeter-policy-examples, vpc_endpoint_policies/README.md).
 *
 * The documented exceptions, each as narrow as AWS documents it:
 * - ECR image layers live in an AWS-owned bucket: "Amazon ECR uses AWS owned Amazon S3 buckets
 *   to store Amazon ECR private image layers ... A call to Amazon S3 is signed using a presigned
 *   URL, which is created by an Amazon ECR account" (same README), so neither account key is ours;
 *   the ECR User Guide's "Minimum Amazon S3 bucket permissions for Amazon ECR" allow exactly
 *   `s3:GetObject` on `arn:aws:s3:::prod-<region>-starport-layer-bucket/*`.
 * - GuardDuty's Fargate agent image is in GuardDuty's own ECR account for the region (GuardDuty
 *   User Guide, "ECR Repository for GuardDuty agent on AWS Fargate"; contracts/guardduty.ts): our
 *   principals may pull from that one repository.
 */

/** The account of GuardDuty's agent repository in the stack's region (a mapping when the region is a token). */
export function guardDutyAgentRepositoryFor(stack: Stack): string {
  if (!Token.isUnresolved(stack.region)) return guardDutyAgentRepositoryArn(stack.region, stack.partition);
  const accounts =
    (stack.node.tryFindChild('GuardDutyAgentAccounts') as CfnMapping | undefined) ??
    new CfnMapping(stack, 'GuardDutyAgentAccounts', {
      mapping: Object.fromEntries(Object.entries(GUARDDUTY_AGENT_ACCOUNTS).map(([r, a]) => [r, { account: a }])),
    });
  return `arn:${stack.partition}:ecr:${stack.region}:${accounts.findInMap(stack.region, 'account')}:repository/${GUARDDUTY_AGENT_REPOSITORY}`;
}

/** The AWS-owned bucket ECR keeps image layers in, in the stack's region. */
export function ecrLayerBucketObjects(stack: Stack): string {
  return `arn:${stack.partition}:s3:::prod-${stack.region}-starport-layer-bucket/*`;
}

/** Sid of the statement every endpoint policy has. */
export const OWN_ACCOUNT_ONLY = 'ThisAccountsPrincipalsToThisAccountsResources';

/** Anything, as long as both the principal and the resource are this account's. */
export function ownAccountOnly(stack: Stack): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: OWN_ACCOUNT_ONLY,
    principals: [new iam.AnyPrincipal()],
    actions: ['*'],
    resources: ['*'],
    conditions: {
      StringEquals: { 'aws:PrincipalAccount': stack.account, 'aws:ResourceAccount': stack.account },
    },
  });
}

/** The S3 gateway endpoint: this account's buckets, and ECR's layer bucket to read image layers. */
export function s3EndpointStatements(stack: Stack): iam.PolicyStatement[] {
  return [
    ownAccountOnly(stack),
    new iam.PolicyStatement({
      sid: 'EcrImageLayers',
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: [ecrLayerBucketObjects(stack)],
    }),
  ];
}

/**
 * ECR (api and dkr): this account's repositories, and pulls of GuardDuty's agent by this account's
 * principals. `ecr:GetAuthorizationToken` names no repository ("Resource": "*" in every AWS
 * example; Service Authorization Reference: no resource type), so it has a statement of its own
 * held by the principal's account alone: a token carries no data out, and what it is good for is
 * again decided by this endpoint's other statements.
 */
export function ecrEndpointStatements(stack: Stack): iam.PolicyStatement[] {
  return [
    ownAccountOnly(stack),
    new iam.PolicyStatement({
      sid: 'AuthorizationTokens',
      principals: [new iam.AnyPrincipal()],
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:PrincipalAccount': stack.account } },
    }),
    new iam.PolicyStatement({
      sid: 'PullGuardDutyAgent',
      principals: [new iam.AnyPrincipal()],
      actions: [...ECR_PULL_ACTIONS],
      resources: [guardDutyAgentRepositoryFor(stack)],
      conditions: { StringEquals: { 'aws:PrincipalAccount': stack.account } },
    }),
  ];
}

/** Secrets Manager and CloudWatch Logs: this account's principals and resources only. */
export function ownAccountStatements(stack: Stack): iam.PolicyStatement[] {
  return [ownAccountOnly(stack)];
}
