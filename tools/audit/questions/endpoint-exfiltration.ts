/**
 * Self-assessment question 12: "Can a site send data to another account through a Bulkhead
 * endpoint?" (issue 15, item 1). A sealed fleet answers `no`.
 *
 * Every `AWS::EC2::VPCEndpoint` of the assembly is asked two things, by evaluating its endpoint
 * policy as AWS evaluates one (tools/audit/policy/evaluate.ts; "An endpoint policy does not override
 * or replace identity-based policies or resource-based policies" and the request must be allowed
 * by it: AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies"):
 *
 * 1. would it carry a write by **another account's principal** to that account's resource (a
 *    presigned URL, or keys an attacker brought), and
 * 2. would it carry a write by **this account's principal** to another account's resource (one
 *    whose resource policy admits anyone)?
 *
 * An endpoint without a policy gets "a default policy ... that allows full access to the service
 * through the endpoint": both. The probe is a write of the endpoint's service (S3 PutObject, Logs
 * PutLogEvents, Secrets Manager PutSecretValue, ECR PutImage / UploadLayerPart). GuardDuty's data
 * endpoint is asked only (1): "GuardDuty does not support resource-based policies" (GuardDuty User
 * Guide, "How Amazon GuardDuty works with IAM"), so no other account's detector can admit our
 * principals. An endpoint of a service the audit has no probe for is a "yes" until it has one.
 *
 * Names are a way out too (the resolver is not filtered by security groups or ACLs): the VPC needs a
 * Route 53 Resolver DNS Firewall association whose rule group blocks DNS tunnelling, or answers
 * only AWS names (infra/platform/dns-firewall.ts).
 */
import { displayValue, parseToken, type Resolved } from '../intrinsics';
import type { Inventory, ResourceEntry } from '../inventory';
import type { RequestContext } from '../policy/conditions';
import { evaluateRequest, type Statement } from '../policy/evaluate';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';

export const ENDPOINT_EXFILTRATION_QUESTION = 'Can a site send data to another account through a Bulkhead endpoint?';
export const ENDPOINT_EXFILTRATION_NUMBER = 12;

/** An account that is not the fleet's: the owner of the probes' resources and foreign principals. */
const OTHER_ACCOUNT = '999988887777';

interface Probe {
  readonly actions: readonly string[];
  readonly resource: (region: string, account: string) => string;
  /** Whether a foreign resource could admit this account's principals (the service has resource policies). */
  readonly resourcePolicies: boolean;
}

const ECR_WRITE: Probe = {
  actions: ['ecr:PutImage', 'ecr:UploadLayerPart'],
  resource: (r, a) => `arn:aws:ecr:${r}:${a}:repository/exfil`,
  resourcePolicies: true,
};

/** The probe of an endpoint by the last part(s) of its service name (`com.amazonaws.<region>.<service>`). */
const PROBES: Readonly<Record<string, Probe>> = {
  s3: { actions: ['s3:PutObject'], resource: () => 'arn:aws:s3:::exfil-bucket/loot', resourcePolicies: true },
  logs: {
    actions: ['logs:PutLogEvents'],
    resource: (r, a) => `arn:aws:logs:${r}:${a}:log-group:exfil:log-stream:loot`,
    resourcePolicies: true,
  },
  secretsmanager: {
    actions: ['secretsmanager:PutSecretValue'],
    resource: (r, a) => `arn:aws:secretsmanager:${r}:${a}:secret:exfil-AbCdEf`,
    resourcePolicies: true,
  },
  'ecr.api': ECR_WRITE,
  'ecr.dkr': ECR_WRITE,
  'guardduty-data': {
    actions: ['guardduty:SendSecurityTelemetry'],
    resource: (r, a) => `arn:aws:guardduty:${r}:${a}:detector/exfil`,
    resourcePolicies: false,
  },
};

function list(value: Resolved): Resolved[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function record(value: Resolved): Record<string, Resolved> {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function contextOf(values: Record<string, string>): RequestContext {
  const lower = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (key) => lower.get(key.toLowerCase()), has: (key) => lower.has(key.toLowerCase()) };
}

const ALLOW_ALL: Statement = { Effect: 'Allow', Action: '*', Resource: '*' };

/** Whether the endpoint policy lets this principal's write to that account's resource through. */
function carries(
  statements: readonly Statement[],
  probe: Probe,
  region: string,
  principalAccount: string,
  resourceAccount: string,
): boolean {
  const principal = {
    account: principalAccount,
    roleArn: `arn:aws:iam::${principalAccount}:role/probe`,
    sessionArn: `arn:aws:sts::${principalAccount}:assumed-role/probe/session`,
  };
  return probe.actions.some(
    (action) =>
      evaluateRequest(
        {
          principal,
          action,
          resource: probe.resource(region, resourceAccount),
          context: contextOf({
            'aws:PrincipalAccount': principalAccount,
            'aws:PrincipalArn': principal.roleArn,
            'aws:ResourceAccount': resourceAccount,
            'aws:RequestedRegion': region,
          }),
        },
        // The endpoint policy decides: it must allow the request ("mustAllow"), as for a trust policy.
        { identity: [ALLOW_ALL], resource: { statements, mustAllow: true } },
      ).decision === 'Allowed',
  );
}

function serviceOf(inventory: Inventory, endpoint: ResourceEntry): string {
  const name = inventory.resolver.resolveString(endpoint.stack, endpoint.properties.ServiceName) ?? '';
  // com.amazonaws.<region>.<service> (the region part may be a token).
  return name.split('.').slice(3).join('.') || name;
}

interface EndpointVerdict {
  readonly line: string;
  readonly ok: boolean;
}

function judgeEndpoint(inventory: Inventory, endpoint: ResourceEntry): EndpointVerdict {
  const where = `${endpoint.stack.name}/${endpoint.logicalId}`;
  const service = serviceOf(inventory, endpoint);
  const account = endpoint.stack.account ?? '111122223333';
  const region = endpoint.stack.region ?? 'us-east-1';
  const probe = PROBES[service];
  const document = inventory.resolver.resolve(endpoint.stack, endpoint.properties.PolicyDocument);
  if (document === undefined) {
    return {
      ok: false,
      line: `✗ ${where} (${service}): no endpoint policy, so AWS's default one allows full access through it, to any account`,
    };
  }
  const parsed = typeof document === 'string' ? (JSON.parse(document) as Resolved) : document;
  const statements = list(record(parsed).Statement).map((s) => record(s) as Statement);
  if (!probe) {
    return { ok: false, line: `✗ ${where} (${service}): no probe for this service; the audit cannot say` };
  }
  const foreignPrincipal = carries(statements, probe, region, OTHER_ACCOUNT, OTHER_ACCOUNT);
  const foreignResource = probe.resourcePolicies && carries(statements, probe, region, account, OTHER_ACCOUNT);
  const problems = [
    ...(foreignPrincipal ? [`another account's principal may ${probe.actions.join('/')} to its own resources`] : []),
    ...(foreignResource
      ? [`this account's principals may ${probe.actions.join('/')} to another account's resources`]
      : []),
  ];
  return problems.length > 0
    ? { ok: false, line: `✗ ${where} (${service}): ${problems.join('; ')}` }
    : {
        ok: true,
        line: `${where} (${service}): refuses other accounts' principals${probe.resourcePolicies ? ' and resources' : ' (the service has no resource policies)'}`,
      };
}

/** DNS Firewall rule groups associated with a VPC that close names as a way out. */
function judgeDns(inventory: Inventory): EndpointVerdict {
  const { resolver } = inventory;
  // A `Ref` or `Fn::GetAtt` resolves to a token naming the resource's stack and logical id.
  const named = (value: Resolved): ResourceEntry | undefined => {
    const address = parseToken(typeof value === 'string' ? value : undefined);
    return address ? inventory.entry(address.stack, address.logicalId) : undefined;
  };
  const closing: string[] = [];
  for (const association of inventory.ofType('AWS::Route53Resolver::FirewallRuleGroupAssociation')) {
    const group = named(resolver.resolve(association.stack, association.properties.FirewallRuleGroupId));
    if (group?.type !== 'AWS::Route53Resolver::FirewallRuleGroup') continue;
    const rules = list(resolver.resolve(group.stack, group.properties.FirewallRules)).map(record);
    const tunnelling = rules.some((r) => r.Action === 'BLOCK' && r.DnsThreatProtection === 'DNS_TUNNELING');
    const blocksEverything = rules.some((r) => {
      const domainList = named(r.FirewallDomainListId);
      const domains =
        domainList?.type === 'AWS::Route53Resolver::FirewallDomainList'
          ? list(resolver.resolve(domainList.stack, domainList.properties.Domains))
          : [];
      return r.Action === 'BLOCK' && domains.includes('*');
    });
    if (tunnelling || blocksEverything) {
      closing.push(
        `${group.stack.name}/${group.logicalId} (${tunnelling ? 'blocks DNS tunnelling' : ''}${tunnelling && blocksEverything ? ', ' : ''}${blocksEverything ? 'answers only the names it allows' : ''})`,
      );
    }
  }
  return closing.length > 0
    ? { ok: true, line: `DNS: the VPC's resolver answers through DNS Firewall rule groups ${closing.join(', ')}` }
    : {
        ok: false,
        line: '✗ DNS: no DNS Firewall rule group associated with the VPC blocks tunnelling or answers only allowed names; queries carry data to any domain',
      };
}

export function answerEndpointExfiltration(inventory: Inventory): SelfAssessmentAnswer {
  const endpoints = inventory.ofType('AWS::EC2::VPCEndpoint');
  const verdicts = endpoints.map((e) => judgeEndpoint(inventory, e));
  const dns = judgeDns(inventory);
  const all = [...verdicts, dns];
  const evidence = [
    ...(endpoints.length === 0 ? ['No VPC endpoint in the assembly.'] : []),
    ...all.filter((v) => !v.ok).map((v) => v.line),
    ...all.filter((v) => v.ok).map((v) => v.line),
    `Probed with principals and resources of account ${displayValue(OTHER_ACCOUNT)} (not the fleet's).`,
  ];
  const canSend = all.some((v) => !v.ok);
  return {
    number: ENDPOINT_EXFILTRATION_NUMBER,
    question: ENDPOINT_EXFILTRATION_QUESTION,
    answer: canSend ? 'yes' : 'no',
    wanted: 'no',
    evidence,
  };
}

export const endpointExfiltrationQuestion: AuditQuestion = {
  number: ENDPOINT_EXFILTRATION_NUMBER,
  text: ENDPOINT_EXFILTRATION_QUESTION,
  wanted: 'no',
  answer: ({ inventory }) => answerEndpointExfiltration(inventory),
};
