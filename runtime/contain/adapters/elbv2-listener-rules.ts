import {
  type Action,
  DescribeRulesCommand,
  type ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ListenerRulesPort } from '../ports';

/** The site's listener rule through Elastic Load Balancing v2. */
export class Elbv2ListenerRules implements ListenerRulesPort {
  constructor(private readonly elbv2: ElasticLoadBalancingV2Client) {}

  async readActions(ruleArn: string): Promise<Action[]> {
    const rules = await this.elbv2.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }));
    const rule = rules.Rules?.[0];
    if (!rule?.Actions) throw new Error(`listener rule ${ruleArn} not found`);
    return rule.Actions;
  }

  async replaceActions(ruleArn: string, actions: Action[]): Promise<void> {
    await this.elbv2.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: actions }));
  }
}
