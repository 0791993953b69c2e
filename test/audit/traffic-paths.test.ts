import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly } from '../../tools/audit';
import { exampleAssembly, logicalIdOf, type MutableTemplate, mutated, siteStackName } from './audit-support';

/**
 * Traffic and logs that reach the wrong site (tools/audit/traffic-paths.ts): listener rules and
 * target groups that send a site's visitors to another site's tasks; awslogs into another
 * site's log group.
 */
let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

const A = 'acme-shop';
const B = 'bakery';
const BAKERY_LOGS = '/bulkhead/example/sites/bakery/000000000000';

function listenerRule(t: MutableTemplate) {
  return t.Resources[
    logicalIdOf(t, 'AWS::ElasticLoadBalancingV2::ListenerRule')
  ] as MutableTemplate['Resources'][string];
}

/** A second rule in A's stack for bakery's host, forwarding to A's own target group, at `priority`. */
function hostileRule(priority: number) {
  return (t: MutableTemplate) => {
    const own = listenerRule(t);
    t.Resources.BakeryHost = {
      Type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
      Properties: {
        Actions: [
          { Type: 'forward', TargetGroupArn: { Ref: logicalIdOf(t, 'AWS::ElasticLoadBalancingV2::TargetGroup') } },
        ],
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['bakery.example'] } }],
        ListenerArn: own.Properties.ListenerArn,
        Priority: priority,
      },
    };
  };
}

describe('traffic paths', () => {
  it("names a listener rule that sends another site's host to a site's tasks ahead of that site's own rule", () => {
    // Prepare
    const changed = mutated(assembly, { [siteStackName(A)]: hostileRule(1) });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings).toEqual([
      expect.objectContaining({
        kind: 'network',
        from: A,
        to: B,
        summary:
          "bakery's visitors (host bakery.example) are sent to acme-shop's tasks by acme-shop's listener rule BakeryHost",
        rules: [
          expect.objectContaining({
            stack: siteStackName(A),
            logicalId: 'BakeryHost',
            rule: expect.stringMatching(/^listener rule priority 1 host bakery\.example: forward to /),
          }),
          expect.objectContaining({ stack: siteStackName(B), rule: expect.stringMatching(/: bakery's own rule$/) }),
        ],
      }),
    ]);
  });

  it("is compliant when the other site's own host-only rule comes first and takes every such request", () => {
    // Prepare
    const changed = mutated(assembly, { [siteStackName(A)]: hostileRule(50_000) });

    // Act / Assess
    expect(auditAssembly(changed).findings).toEqual([]);
  });

  it("names a service that registers its tasks in another site's target group", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(B)]: (t) => {
        const tg = logicalIdOf(t, 'AWS::ElasticLoadBalancingV2::TargetGroup');
        t.Outputs = { ...t.Outputs, TG: { Value: { Ref: tg }, Export: { Name: 'bakery-tg' } } };
      },
      [siteStackName(A)]: (t) => {
        const service = t.Resources[logicalIdOf(t, 'AWS::ECS::Service')] as MutableTemplate['Resources'][string];
        (service.Properties.LoadBalancers as { TargetGroupArn: unknown }[]).push({
          ContainerName: 'site',
          ContainerPort: 8080,
          TargetGroupArn: { 'Fn::ImportValue': 'bakery-tg' },
        } as never);
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings.map((f) => `${f.kind} ${f.from}→${f.to}: ${f.summary}`)).toContain(
      `network ${A}→${B}: ${A}'s service registers its tasks in ${B}'s target group: ${B}'s visitors reach ${A}`,
    );
  });

  it("names a container whose awslogs configuration writes into another site's log group", () => {
    // Prepare
    const changed = mutated(assembly, {
      [siteStackName(A)]: (t) => {
        const td = t.Resources[logicalIdOf(t, 'AWS::ECS::TaskDefinition')] as MutableTemplate['Resources'][string];
        const [container] = td.Properties.ContainerDefinitions as {
          LogConfiguration: { Options: Record<string, unknown> };
        }[];
        // bakery's log group is named with its stack instance (the audit's stand-in: twelve zeros).
        if (container) container.LogConfiguration.Options['awslogs-group'] = BAKERY_LOGS;
      },
    });

    // Act
    const result = auditAssembly(changed);

    // Assess
    expect(result.findings.map((f) => `${f.from}→${f.to}: ${f.summary}`)).toEqual([
      `${A}→${B}: ${A}'s container site writes its logs into ${B}'s log group ${BAKERY_LOGS}`,
    ]);
  });
});
