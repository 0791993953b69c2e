import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { siteRecordParameterPrefix } from '../../../contracts/site-record';
import { stackArn } from '../iam-statements';

/**
 * A site's record (SSM parameter `/bulkhead/<env>/sites/<site>`): every role that acts on a
 * site reads it; containment and the console also list them all, by path.
 */

/** Every site record of this environment (`parameter/bulkhead/<env>/sites/*`). */
function siteRecordsArn(stack: Stack, environment: string): string {
  return stackArn(stack, 'ssm', 'parameter', `${siteRecordParameterPrefix(environment).replace(/^\//, '')}*`);
}

/**
 * The records' path itself (`parameter/bulkhead/<env>/sites`): GetParametersByPath is
 * authorized against the path in the request, not the parameters it returns (Systems Manager
 * User Guide, "How Parameter Store authorizes parameter retrieval").
 */
function siteRecordPathArn(stack: Stack, environment: string): string {
  return stackArn(
    stack,
    'ssm',
    'parameter',
    siteRecordParameterPrefix(environment).replace(/^\//, '').replace(/\/$/, ''),
  );
}

/** Read one site's record (`ssm:GetParameter`). */
export function readSiteRecordsStatement(stack: Stack, environment: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadSiteRecords',
    actions: ['ssm:GetParameter'],
    resources: [siteRecordsArn(stack, environment)],
  });
}

/** List every site record, by path (a finding about a whole cluster names the sites of its cell). */
export function listSiteRecordsStatement(stack: Stack, environment: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ListSiteRecords',
    actions: ['ssm:GetParametersByPath'],
    resources: [siteRecordPathArn(stack, environment)],
  });
}

/** Both of the above in one statement (the console's `ReadSiteRecords`: status lists the sites, commands read one). */
export function readAndListSiteRecordsStatement(stack: Stack, environment: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadSiteRecords',
    actions: ['ssm:GetParameter', 'ssm:GetParametersByPath'],
    resources: [siteRecordPathArn(stack, environment), siteRecordsArn(stack, environment)],
  });
}
