/**
 * The Condition element of an IAM policy statement, evaluated against a request context, as
 * the IAM User Guide describes it ("IAM JSON policy elements: Condition operators",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
 * and "Set operators for multivalued context keys",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
 *
 * - "If you specify multiple condition operators, or multiple keys attached to a single
 *   condition operator, the conditions are evaluated using a logical AND. If a single
 *   condition operator includes multiple values for one key, that condition operator is
 *   evaluated using a logical OR."
 * - Negated operators: "a negated matching condition operator ... the request is matched if
 *   the key value matches none of the values"; a key that is absent matches none, so the
 *   negated condition is true.
 * - "...IfExists: If the policy key is present in the context of the request, process the key
 *   as specified in the policy. If the key is not present, evaluate the condition element as
 *   true."
 * - "Null: Use a Null condition operator to check if a condition key is absent at the time of
 *   authorization. In the policy statement, use either true (the key doesn't exist — it is
 *   null) or false (the key exists and its value is not null)."
 * - ForAllValues: "true if every value in the request matches at least one value in the
 *   policy, or if there are no values in the request (the key is absent)". ForAnyValue:
 *   "true if at least one value in the request matches one of the values in the policy";
 *   false when the key is absent.
 *
 * Keys are compared without regard to case ("Condition key names are not case-sensitive"),
 * values as each operator says. Policy variables (`${aws:PrincipalTag/team}`) are replaced
 * from the request context in condition values; a value whose variable has no value in the
 * request matches nothing.
 */
import { ipInCidr } from '../cidr';
import { patternMatches as globMatches } from '../wildcards';

/** A request context: lower-cased key → one value, or a list for a multivalued key. */
export interface RequestContext {
  get(key: string): string | readonly string[] | undefined;
  has(key: string): boolean;
}

type Compare = (requestValue: string, policyValue: string) => boolean;

interface Operator {
  readonly compare: Compare;
  readonly negated: boolean;
}

function parseNumber(text: string): number | undefined {
  if (!/^\s*-?\d+(\.\d+)?\s*$/.test(text)) return undefined;
  return Number(text);
}

/** An ISO 8601 date or epoch seconds → epoch milliseconds. */
function parseDate(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function numeric(test: (a: number, b: number) => boolean): Compare {
  return (r, p) => {
    const a = parseNumber(r);
    const b = parseNumber(p);
    return a !== undefined && b !== undefined && test(a, b);
  };
}

function date(test: (a: number, b: number) => boolean): Compare {
  return (r, p) => {
    const a = parseDate(r);
    const b = parseDate(p);
    return a !== undefined && b !== undefined && test(a, b);
  };
}

/**
 * ArnEquals / ArnLike: "Case-sensitive matching of the ARN. Each of the six colon-delimited
 * components of the ARN is checked separately and each can include multi-character match
 * wildcards (*) or single-character match wildcards (?)."
 */
export function arnMatches(pattern: string, arn: string): boolean {
  const split = (text: string) => {
    const parts = text.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const p = split(pattern);
  const a = split(arn);
  if (!p || !a) return false;
  return p.every((part, i) => globMatches(part, a[i] as string));
}

const BASE_OPERATORS: Record<string, Operator> = {
  stringequals: { compare: (r, p) => r === p, negated: false },
  stringnotequals: { compare: (r, p) => r === p, negated: true },
  stringequalsignorecase: { compare: (r, p) => r.toLowerCase() === p.toLowerCase(), negated: false },
  stringnotequalsignorecase: { compare: (r, p) => r.toLowerCase() === p.toLowerCase(), negated: true },
  stringlike: { compare: (r, p) => globMatches(p, r), negated: false },
  stringnotlike: { compare: (r, p) => globMatches(p, r), negated: true },
  numericequals: { compare: numeric((a, b) => a === b), negated: false },
  numericnotequals: { compare: numeric((a, b) => a === b), negated: true },
  numericlessthan: { compare: numeric((a, b) => a < b), negated: false },
  numericlessthanequals: { compare: numeric((a, b) => a <= b), negated: false },
  numericgreaterthan: { compare: numeric((a, b) => a > b), negated: false },
  numericgreaterthanequals: { compare: numeric((a, b) => a >= b), negated: false },
  dateequals: { compare: date((a, b) => a === b), negated: false },
  datenotequals: { compare: date((a, b) => a === b), negated: true },
  datelessthan: { compare: date((a, b) => a < b), negated: false },
  datelessthanequals: { compare: date((a, b) => a <= b), negated: false },
  dategreaterthan: { compare: date((a, b) => a > b), negated: false },
  dategreaterthanequals: { compare: date((a, b) => a >= b), negated: false },
  bool: { compare: (r, p) => r.toLowerCase() === p.toLowerCase(), negated: false },
  binaryequals: { compare: (r, p) => r === p, negated: false },
  ipaddress: { compare: (r, p) => ipInCidr(r, p), negated: false },
  notipaddress: { compare: (r, p) => ipInCidr(r, p), negated: true },
  arnequals: { compare: (r, p) => arnMatches(p, r), negated: false },
  arnlike: { compare: (r, p) => arnMatches(p, r), negated: false },
  arnnotequals: { compare: (r, p) => arnMatches(p, r), negated: true },
  arnnotlike: { compare: (r, p) => arnMatches(p, r), negated: true },
};

export interface ParsedOperator {
  readonly base: string;
  readonly set?: 'forallvalues' | 'foranyvalue';
  readonly ifExists: boolean;
}

const operatorMemo = new Map<string, ParsedOperator | undefined>();

/** `ForAnyValue:StringLikeIfExists` → its parts; undefined for an operator IAM does not have. */
export function parseOperator(name: string): ParsedOperator | undefined {
  if (operatorMemo.has(name)) return operatorMemo.get(name);
  const parsed = parseOperatorText(name);
  operatorMemo.set(name, parsed);
  return parsed;
}

function parseOperatorText(name: string): ParsedOperator | undefined {
  let rest = name.toLowerCase();
  let set: ParsedOperator['set'];
  const prefix = /^(forallvalues|foranyvalue):/.exec(rest);
  if (prefix) {
    set = prefix[1] as ParsedOperator['set'];
    rest = rest.slice(prefix[0].length);
  }
  const ifExists = rest.endsWith('ifexists') && rest !== 'ifexists';
  if (ifExists) rest = rest.slice(0, -'ifexists'.length);
  if (rest !== 'null' && !BASE_OPERATORS[rest]) return undefined;
  if (rest === 'null' && (ifExists || set)) return undefined;
  return { base: rest, ...(set ? { set } : {}), ifExists };
}

/** The values a condition names for a key: a string, a number, a boolean or a list of them. */
export function conditionValues(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.flatMap((v) =>
    typeof v === 'string' ? [v] : typeof v === 'number' || typeof v === 'boolean' ? [String(v)] : [],
  );
}

const VARIABLE = /\$\{([^}]*)\}/g;

/**
 * Replaces policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, the special
 * `${*}`, `${?}`, `${$}`, and `${key, 'default'}`) from the request context. Undefined when a
 * variable has no value: "If there is no value ... the policy ... does not match".
 */
export function substituteVariables(text: string, context: RequestContext): string | undefined {
  if (!text.includes('${')) return text;
  let missing = false;
  const out = text.replace(VARIABLE, (_, body: string) => {
    const [keyPart, ...defaultParts] = body.split(',');
    const key = (keyPart ?? '').trim();
    if (key === '*') return '*';
    if (key === '?') return '?';
    if (key === '$') return '$';
    const value = context.get(key.toLowerCase());
    if (typeof value === 'string') return value;
    const fallback = /^\s*'(.*)'\s*$/.exec(defaultParts.join(','));
    if (fallback) return fallback[1] as string;
    missing = true;
    return '';
  });
  return missing ? undefined : out;
}

/** One operator on one key with its policy values. */
export function evaluateCondition(
  operatorName: string,
  key: string,
  rawValues: unknown,
  context: RequestContext,
): boolean {
  const values = conditionValues(rawValues);
  return evaluateClause(
    parseOperator(operatorName),
    key.toLowerCase(),
    values,
    values.some((v) => v.includes('${')),
    context,
  );
}

function evaluateClause(
  parsed: ParsedOperator | undefined,
  key: string,
  values: readonly string[],
  variables: boolean,
  context: RequestContext,
): boolean {
  // An operator IAM does not know matches nothing (IAM refuses such a policy when it is saved).
  if (!parsed) return false;
  const present = context.get(key);
  const policyValues = variables
    ? values.map((v) => substituteVariables(v, context)).filter((v): v is string => v !== undefined)
    : values;
  if (parsed.base === 'null') {
    const absent = present === undefined || (Array.isArray(present) && present.length === 0);
    return policyValues.some((v) => (v.toLowerCase() === 'true' ? absent : v.toLowerCase() === 'false' && !absent));
  }
  const operator = BASE_OPERATORS[parsed.base] as Operator;
  const requestValues = present === undefined ? undefined : Array.isArray(present) ? present : [present as string];
  const matchesAny = (value: string) => policyValues.some((p) => operator.compare(value, p));
  if (parsed.set === 'forallvalues') {
    if (!requestValues || requestValues.length === 0) return true;
    return requestValues.every((v) => (operator.negated ? !matchesAny(v) : matchesAny(v)));
  }
  if (parsed.set === 'foranyvalue') {
    if (!requestValues || requestValues.length === 0) return false;
    return requestValues.some((v) => (operator.negated ? !matchesAny(v) : matchesAny(v)));
  }
  if (!requestValues || requestValues.length === 0) return parsed.ifExists || operator.negated;
  return operator.negated ? !requestValues.some(matchesAny) : requestValues.some(matchesAny);
}

interface Clause {
  readonly operator: ParsedOperator | undefined;
  readonly key: string;
  readonly values: readonly string[];
  readonly variables: boolean;
}
const clauseMemo = new WeakMap<object, readonly Clause[] | false>();

/** A Condition as its clauses (false when it is malformed: then it never holds). */
function clausesOf(condition: object): readonly Clause[] | false {
  const known = clauseMemo.get(condition);
  if (known !== undefined) return known;
  let clauses: Clause[] | false = [];
  if (Array.isArray(condition)) clauses = false;
  else {
    for (const [operator, block] of Object.entries(condition as Record<string, unknown>)) {
      if (!block || typeof block !== 'object' || Array.isArray(block)) {
        clauses = false;
        break;
      }
      for (const [key, raw] of Object.entries(block as Record<string, unknown>)) {
        const values = conditionValues(raw);
        clauses.push({
          operator: parseOperator(operator),
          key: key.toLowerCase(),
          values,
          variables: values.some((v) => v.includes('${')),
        });
      }
    }
  }
  clauseMemo.set(condition, clauses);
  return clauses;
}

/** Every operator block of a statement's Condition: all must hold. */
export function conditionsHold(condition: unknown, context: RequestContext): boolean {
  if (condition === undefined || condition === null) return true;
  if (typeof condition !== 'object') return false;
  const clauses = clausesOf(condition);
  if (clauses === false) return false;
  return clauses.every((c) => evaluateClause(c.operator, c.key, c.values, c.variables, context));
}

const keysMemo = new WeakMap<object, Map<string, { operator: ParsedOperator; values: string[] }[]>>();

/** The lower-cased keys a Condition names, each with the operators and values it is compared with. */
export function conditionKeys(condition: unknown): Map<string, { operator: ParsedOperator; values: string[] }[]> {
  if (condition && typeof condition === 'object') {
    const known = keysMemo.get(condition);
    if (known) return known;
    const computed = computeConditionKeys(condition);
    keysMemo.set(condition, computed);
    return computed;
  }
  return new Map();
}

function computeConditionKeys(condition: unknown): Map<string, { operator: ParsedOperator; values: string[] }[]> {
  const keys = new Map<string, { operator: ParsedOperator; values: string[] }[]>();
  if (!condition || typeof condition !== 'object' || Array.isArray(condition)) return keys;
  for (const [name, clauses] of Object.entries(condition as Record<string, unknown>)) {
    const operator = parseOperator(name);
    if (!operator || !clauses || typeof clauses !== 'object') continue;
    for (const [key, values] of Object.entries(clauses as Record<string, unknown>)) {
      const list = keys.get(key.toLowerCase()) ?? [];
      list.push({ operator, values: conditionValues(values) });
      keys.set(key.toLowerCase(), list);
    }
  }
  return keys;
}
