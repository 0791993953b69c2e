import { lambdaRegion } from '../shared/env';
import type { ContainConfig } from './contain';

/** The variables containment's configuration is read from (set on the contain and console functions alike). */
export type ContainConfigVariable =
  | 'BULKHEAD_ENV'
  | 'BULKHEAD_ACCOUNT'
  | 'CLUSTER_ARNS'
  | 'LOGS_ENDPOINT_SG_ID'
  | 'QUARANTINE_ACL_ID'
  | 'STATE_MACHINE_ARN';

/**
 * Containment's configuration from a function's environment: the contain function's, and the
 * console's (operator quarantine runs the same containment).
 */
export function containConfigFrom(required: (name: ContainConfigVariable) => string): ContainConfig {
  return {
    scope: {
      environment: required('BULKHEAD_ENV'),
      account: required('BULKHEAD_ACCOUNT'),
      region: lambdaRegion(),
      clusterArns: new Set(required('CLUSTER_ARNS').split(',')),
    },
    logsEndpointGroupId: required('LOGS_ENDPOINT_SG_ID'),
    quarantineAclId: required('QUARANTINE_ACL_ID'),
    stateMachineArn: required('STATE_MACHINE_ARN'),
  };
}
