import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The form in which cdk-nag prints a resource ARN in a finding id: literal parts stay,
 * unresolved account/region/partition become `<AWS::AccountId>` and friends.
 */
export function nagArn(scope: IConstruct, service: string, resource: string): string {
  const stack = Stack.of(scope);
  const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  return `arn:${part(stack.partition, 'Partition')}:${service}:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:${resource}`;
}

/** AWS-managed policy ARN as cdk-nag names it. */
export const LAMBDA_BASIC_EXECUTION =
  'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
export const LAMBDA_VPC_EXECUTION =
  'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole';

/** Acknowledges one cdk-nag finding on one construct, with the reason it is acceptable. */
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}

/**
 * A resource value as cdk-nag prints it in an IAM5 finding id: literal text as is, and each
 * intrinsic that is not a Ref or GetAtt as its JSON (as cdk-nag renders Fn::Join parts).
 */
export function nagResource(scope: IConstruct, value: string): string {
  const resolved: unknown = Stack.of(scope).resolve(value);
  const part = (p: unknown): string => {
    if (typeof p === 'string') return p;
    const ref = (p as { Ref?: string }).Ref;
    if (ref) return ref.startsWith('AWS::') ? `<${ref}>` : `<${ref}>`;
    const getAtt = (p as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
    return JSON.stringify(p);
  };
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })?.['Fn::Join'];
  return join ? join[1].map(part).join(join[0]) : part(resolved);
}

/** Acknowledges cdk-nag IAM5 findings, one per wildcard resource, each with its reason. */
export function acknowledgeWildcards(construct: IConstruct, reasons: Record<string, string>): void {
  for (const [resource, reason] of Object.entries(reasons)) {
    acknowledge(construct, `AwsSolutions-IAM5[Resource::${resource}]`, reason);
  }
}

/** Acknowledges the IAM5 finding of each of these resource values (tokens as cdk-nag prints them), for one reason. */
export function acknowledgeResources(construct: IConstruct, resources: readonly string[], reason: string): void {
  for (const resource of resources) {
    acknowledge(construct, `AwsSolutions-IAM5[Resource::${nagResource(construct, resource)}]`, reason);
  }
}
