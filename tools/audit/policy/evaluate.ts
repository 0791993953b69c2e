/**
 * IAM policy evaluation for one request by an IAM role session in the role's own account:
 * identity-based policies, the role's permissions boundary, and the resource's own policy, as
 * the IAM User Guide describes it ("Policy evaluation logic",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 *
 * - "By default, all requests are implicitly denied ... An explicit deny overrides an explicit
 *   allow." Deny statements of every policy type are looked at first.
 * - "If either the identity-based policy or the resource-based policy within the same account
 *   allows the request and the other doesn't, the request is still allowed."
 * - Permissions boundaries: "An entity's permissions boundary allows it to perform only the
 *   actions that are allowed by both its identity-based policies and its permissions
 *   boundaries." A resource-based policy that names the role's ARN is limited by the boundary
 *   too; one that names the role session itself is not ("Within an account, an implicit deny
 *   in a permissions boundary does limit the permissions granted to the ARN of the underlying
 *   IAM role ... by the resource-based policy", access_policies_boundaries.html).
 * - "For most resources, you only need an explicit allow for the principal in either an
 *   identity-based policy or a resource-based policy to grant access. IAM role trust policies
 *   and KMS key policies are exceptions to this logic, because they must explicitly allow
 *   access for principals." A key policy or trust policy that names the account ("Principal":
 *   {"AWS": "arn:aws:iam::111122223333:root"}) delegates to IAM policies: "Unless the key
 *   policy explicitly allows it, you cannot use IAM policies to allow access to a KMS key"
 *   (AWS KMS Developer Guide, key-policies.html).
 *
 * Organizations SCPs and RCPs, session policies and VPC endpoint policies are not in a
 * CloudFormation template; the audit cannot see them and does not assume any (docs/audit.md).
 */
import { conditionsHold, type RequestContext, substituteVariables } from './conditions';
import { patternMatches, patternMatchesIgnoringCase, patternsIntersect, SEGMENT } from '../wildcards';

/** One statement of a policy document, as written (values already resolved from the template). */
export interface Statement {
  readonly Sid?: unknown;
  readonly Effect?: unknown;
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Condition?: unknown;
}

/** The role session that makes the request. */
export interface RequestPrincipal {
  readonly account: string;
  /** `arn:aws:iam::<account>:role/<path><name>`. */
  readonly roleArn: string;
  /** `arn:aws:sts::<account>:assumed-role/<name>/<session>`. */
  readonly sessionArn: string;
}

export interface AuthorizationRequest {
  readonly principal: RequestPrincipal;
  /** `service:Action`. */
  readonly action: string;
  /** The resource's ARN; {@link SEGMENT} stands for a part the templates do not tell (a random suffix). */
  readonly resource: string;
  /**
   * Other ways to write the same resource's ARN (a CloudFormation-generated name written as the
   * token a template's `Ref` gives, or as the `<stack name>-…` shape CloudFormation gives it).
   */
  readonly aliases?: readonly string[];
  readonly context: RequestContext;
}

export interface ResourcePolicy {
  readonly statements: readonly Statement[];
  /** A role trust policy or a KMS key policy: it must allow the principal (or delegate to the account). */
  readonly mustAllow: boolean;
}

export interface ApplicablePolicies {
  readonly identity: readonly Statement[];
  /** The permissions boundary's statements; undefined when the role has none. */
  readonly boundary?: readonly Statement[];
  readonly resource?: ResourcePolicy;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Evaluation {
  readonly decision: Decision;
  /** The Allow statements the decision rests on (identity or resource), for the finding. */
  readonly allowedBy: readonly Statement[];
  readonly deniedBy: readonly Statement[];
}

export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function strings(value: unknown): string[] {
  return asList(value).filter((v): v is string => typeof v === 'string');
}

/** "Action: … The wildcard (*) and (?) … action names are case insensitive." */
export function actionMatches(statement: Statement, action: string): boolean {
  if (statement.Action !== undefined)
    return strings(statement.Action).some((p) => patternMatchesIgnoringCase(p, action));
  if (statement.NotAction !== undefined) {
    return !strings(statement.NotAction).some((p) => patternMatchesIgnoringCase(p, action));
  }
  return false;
}

/** Sample fillings of unknown ARN parts, to ask whether a pattern matches whatever they are. */
const FILLINGS = ['a', 'Zq7x-9', 'unknown-part-0123456789'];

/**
 * Whether a Resource pattern names the resource: for some value of its unknown parts
 * (`some`, what an Allow needs to be possible) or for every value (`all`, what makes a Deny
 * certain). Resource ARNs are case-sensitive; `*` and `?` match any run and any one character.
 */
export function resourcePatternMatches(pattern: string, resource: string, quantifier: 'some' | 'all'): boolean {
  if (!resource.includes(SEGMENT)) return patternMatches(pattern, resource);
  if (quantifier === 'some') return patternsIntersect(pattern, resource);
  return FILLINGS.every((fill) => patternMatches(pattern, resource.replaceAll(SEGMENT, fill)));
}

function resourceMatches(
  statement: Statement,
  request: AuthorizationRequest,
  quantifier: 'some' | 'all',
  isResourcePolicy: boolean,
): boolean {
  const forms = [request.resource, ...(request.aliases ?? [])];
  const test = (raw: unknown, q: 'some' | 'all') => {
    const pattern = typeof raw === 'string' ? substituteVariables(raw, request.context) : undefined;
    return pattern !== undefined && forms.some((form) => resourcePatternMatches(pattern, form, q));
  };
  if (statement.Resource !== undefined) return asList(statement.Resource).some((raw) => test(raw, quantifier));
  if (statement.NotResource !== undefined) {
    // "NotResource … matches every resource except those specified": for `all`, none may match for some filling.
    const other = quantifier === 'all' ? 'some' : 'all';
    return !asList(statement.NotResource).some((raw) => test(raw, other));
  }
  // A role trust policy has no Resource element: it is the role's own policy.
  return isResourcePolicy;
}

export type PrincipalMatch = 'session' | 'role' | 'account' | 'none';

const STRENGTH: Record<PrincipalMatch, number> = { none: 0, account: 1, role: 2, session: 3 };

function principalValues(principal: unknown): { any: boolean; aws: string[] } {
  if (principal === '*') return { any: true, aws: [] };
  if (!principal || typeof principal !== 'object' || Array.isArray(principal)) return { any: false, aws: [] };
  const aws = strings((principal as Record<string, unknown>).AWS);
  return { any: aws.includes('*'), aws };
}

function matchOne(value: string, principal: RequestPrincipal): PrincipalMatch {
  if (value === principal.sessionArn) return 'session';
  if (value === principal.roleArn) return 'role';
  if (value === principal.account || value === `arn:aws:iam::${principal.account}:root`) return 'account';
  return 'none';
}

/**
 * How a resource policy statement's Principal names the requester: the session itself (or
 * everyone, `*`), the role, the account, or not at all. "NotPrincipal" names everyone but
 * those listed.
 */
export function principalMatch(statement: Statement, principal: RequestPrincipal): PrincipalMatch {
  if (statement.Principal !== undefined) {
    const { any, aws } = principalValues(statement.Principal);
    if (any) return 'session';
    return aws.map((v) => matchOne(v, principal)).reduce((a, b) => (STRENGTH[b] > STRENGTH[a] ? b : a), 'none');
  }
  if (statement.NotPrincipal !== undefined) {
    const { aws } = principalValues(statement.NotPrincipal);
    return aws.some((v) => matchOne(v, principal) !== 'none') ? 'none' : 'session';
  }
  return 'none';
}

function effect(statement: Statement): 'Allow' | 'Deny' | undefined {
  return statement.Effect === 'Allow' || statement.Effect === 'Deny' ? statement.Effect : undefined;
}

function applies(
  statement: Statement,
  request: AuthorizationRequest,
  quantifier: 'some' | 'all',
  isResourcePolicy: boolean,
): boolean {
  return (
    actionMatches(statement, request.action) &&
    resourceMatches(statement, request, quantifier, isResourcePolicy) &&
    conditionsHold(statement.Condition, request.context)
  );
}

/** The decision AWS makes for one request with these policies and this request context. */
export function evaluateRequest(request: AuthorizationRequest, policies: ApplicablePolicies): Evaluation {
  const deniedBy: Statement[] = [];
  const denies = (statements: readonly Statement[] | undefined, isResourcePolicy: boolean) => {
    for (const s of statements ?? []) {
      if (effect(s) !== 'Deny' || !applies(s, request, 'all', isResourcePolicy)) continue;
      if (isResourcePolicy && principalMatch(s, request.principal) === 'none') continue;
      deniedBy.push(s);
    }
  };
  denies(policies.identity, false);
  denies(policies.boundary, false);
  denies(policies.resource?.statements, true);
  if (deniedBy.length > 0) return { decision: 'ExplicitlyDenied', allowedBy: [], deniedBy };

  const allows = (statements: readonly Statement[] | undefined) =>
    (statements ?? []).filter((s) => effect(s) === 'Allow' && applies(s, request, 'some', false));
  const identity = allows(policies.identity);
  const boundaryAllows = policies.boundary === undefined || allows(policies.boundary).length > 0;
  const byResource = new Map<PrincipalMatch, Statement[]>();
  for (const s of policies.resource?.statements ?? []) {
    if (effect(s) !== 'Allow' || !applies(s, request, 'some', true)) continue;
    const how = principalMatch(s, request.principal);
    if (how !== 'none') byResource.set(how, [...(byResource.get(how) ?? []), s]);
  }
  const session = byResource.get('session') ?? [];
  const role = byResource.get('role') ?? [];
  const account = byResource.get('account') ?? [];
  const allowed = (by: Statement[]): Evaluation => ({ decision: 'Allowed', allowedBy: by, deniedBy: [] });
  // A grant to the session itself is not limited by the role's boundary.
  if (session.length > 0) return allowed(session);
  if (boundaryAllows) {
    if (role.length > 0) return allowed(role);
    if (policies.resource?.mustAllow) {
      if (account.length > 0 && identity.length > 0) return allowed([...account, ...identity]);
    } else if (identity.length > 0) {
      return allowed(identity);
    }
  }
  return { decision: 'ImplicitlyDenied', allowedBy: [], deniedBy: [] };
}
