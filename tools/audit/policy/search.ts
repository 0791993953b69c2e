/**
 * "Can this principal do this to that resource?" for a request the principal shapes itself.
 * Some of a request's context is fixed by who makes it and what it is about (the principal's
 * ARN and tags, the resource's tags); the rest the caller chooses (TLS or not, the tags it
 * sends, the source address, the time it waits for). The request is possible when some choice
 * of those is allowed: the search tries the values the policies name, values just beside them
 * (for <, >), "absent" and a value none of them names, and evaluates each combination with
 * {@link evaluateRequest}.
 */
import { parseCidr } from '../cidr';
import { conditionKeys, type ParsedOperator, type RequestContext } from './conditions';
import {
  actionMatches,
  type ApplicablePolicies,
  type AuthorizationRequest,
  asList,
  type Evaluation,
  evaluateRequest,
  principalMatch,
  type Statement,
} from './evaluate';

export type ContextValue = string | readonly string[];

export interface ContextSpace {
  /** Keys whose value the request carries whatever the caller does (lower case). */
  readonly fixed: RequestContext;
  /** Keys such a request never carries (lower case). */
  readonly absent: { has(key: string): boolean };
  /** Keys the caller chooses among these values only (lower case), e.g. `aws:securetransport`. */
  readonly domains: ReadonlyMap<string, readonly (ContextValue | undefined)[]>;
}

/** Above this many combinations, each key is tried with fewer values. */
const MAX_COMBINATIONS = 2048;
const UNMATCHED = 'value-no-policy-names';

function instance(pattern: string): string {
  return pattern.replaceAll('*', 'x').replaceAll('?', 'y');
}

function candidatesFor(uses: readonly { operator: ParsedOperator; values: string[] }[]): (ContextValue | undefined)[] {
  const singles = new Set<string>();
  let multivalued = false;
  for (const { operator, values } of uses) {
    if (operator.set) multivalued = true;
    for (const raw of values) {
      const v = instance(raw);
      singles.add(v);
      if (operator.base.startsWith('numeric') && Number.isFinite(Number(raw))) {
        singles.add(String(Number(raw) - 1));
        singles.add(String(Number(raw) + 1));
      } else if (operator.base.startsWith('date')) {
        const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
        if (!Number.isNaN(ms)) {
          singles.add(new Date(ms - 86_400_000).toISOString());
          singles.add(new Date(ms + 86_400_000).toISOString());
        }
      } else if (operator.base === 'bool') {
        singles.add('true');
        singles.add('false');
      } else if (operator.base.includes('ipaddress')) {
        const range = parseCidr(raw);
        if (range?.family === 4) {
          const n = Number(range.start);
          singles.add([24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.'));
        }
        singles.add('198.51.100.254');
      }
    }
  }
  singles.add(UNMATCHED);
  const list = [...singles];
  if (!multivalued) return [undefined, ...list];
  return [undefined, [], ...list.map((v) => [v]), list.filter((v) => v !== UNMATCHED)];
}

/** The statements of the policies that could take part in this request, whatever its context. */
function relevantStatements(request: AuthorizationRequest, policies: ApplicablePolicies): Statement[] {
  const inScope = (s: Statement) => actionMatches(s, request.action);
  return [
    ...policies.identity.filter(inScope),
    ...(policies.boundary ?? []).filter(inScope),
    ...(policies.resource?.statements ?? []).filter(
      (s) => inScope(s) && principalMatch(s, request.principal) !== 'none',
    ),
  ];
}

function variablesOf(statement: Statement): string[] {
  const text = JSON.stringify([statement.Resource, statement.NotResource, statement.Condition]);
  return [...text.matchAll(/\$\{([^},]+)/g)].map((m) => (m[1] as string).trim().toLowerCase());
}

/**
 * The first allowed way to make the request, or the evaluation of the most permissive context
 * when none is allowed.
 */
export function findAllowedRequest(
  base: Omit<AuthorizationRequest, 'context'>,
  policies: ApplicablePolicies,
  space: ContextSpace,
): { evaluation: Evaluation; context: RequestContext } {
  const statements = relevantStatements({ ...base, context: space.fixed }, policies);
  const uses = new Map<string, { operator: ParsedOperator; values: string[] }[]>();
  for (const s of statements) {
    for (const [key, list] of conditionKeys(s.Condition)) uses.set(key, [...(uses.get(key) ?? []), ...list]);
    for (const key of variablesOf(s)) if (!uses.has(key)) uses.set(key, []);
  }
  const free: [string, (ContextValue | undefined)[]][] = [];
  for (const [key, list] of uses) {
    if (space.fixed.has(key) || space.absent.has(key)) continue;
    const domain = space.domains.get(key);
    free.push([key, domain ? [...domain] : candidatesFor(list)]);
  }
  let total = free.reduce((n, [, c]) => n * c.length, 1);
  for (let i = 0; total > MAX_COMBINATIONS && i < free.length; i++) {
    const entry = free[i] as [string, (ContextValue | undefined)[]];
    total = (total / entry[1].length) * Math.min(entry[1].length, 3);
    entry[1] = entry[1].slice(0, 3);
  }
  // The caller's choices over the fixed part, without copying it.
  const chosen = new Map<string, ContextValue>();
  const context: RequestContext = {
    get: (key) => (chosen.has(key) ? chosen.get(key) : space.fixed.get(key)),
    has: (key) => chosen.has(key) || space.fixed.has(key),
  };
  let last: Evaluation | undefined;
  const search = (i: number): boolean => {
    if (i === free.length) {
      last = evaluateRequest({ ...base, context }, policies);
      return last.decision === 'Allowed';
    }
    const [key, values] = free[i] as [string, (ContextValue | undefined)[]];
    for (const value of values) {
      if (value === undefined) chosen.delete(key);
      else chosen.set(key, value);
      if (search(i + 1)) return true;
    }
    chosen.delete(key);
    return false;
  };
  search(0);
  return { evaluation: last as Evaluation, context };
}

export { asList };
