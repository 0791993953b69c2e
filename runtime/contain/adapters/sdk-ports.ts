import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { ContainPorts } from '../ports';
import { Ec2SiteNetwork, type Ec2SiteNetworkProps } from './ec2-site-network';
import { Elbv2ListenerRules } from './elbv2-listener-rules';
import { IamTaskRoleSessions } from './iam-task-role-sessions';

/** Containment's ports, each backed by its SDK client (what the contain and console functions run). */
export function sdkContainPorts(
  props: Ec2SiteNetworkProps & { readonly elbv2: ElasticLoadBalancingV2Client; readonly iam: IAMClient },
): ContainPorts {
  const { elbv2, iam, ...network } = props;
  return {
    network: new Ec2SiteNetwork(network),
    listenerRules: new Elbv2ListenerRules(elbv2),
    taskRoleSessions: new IamTaskRoleSessions(iam),
  };
}
