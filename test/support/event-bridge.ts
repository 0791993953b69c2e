import type { CloudAssembly } from '../../tools/audit';
import type { Resolved } from '../../tools/audit/intrinsics';
import { buildInventory, type Inventory, type ResourceEntry } from '../../tools/audit/inventory';
import type { RequestContext } from '../../tools/audit/policy/conditions';
import {
  type Evaluation,
  evaluateRequest,
  type RequestPrincipal,
  type Statement,
} from '../../tools/audit/policy/evaluate';

/**
 * EventBridge as a synthesized assembly configures it, for tests that ask "what would this
 * PutEvents call set off?": the event buses with their resource policies, and the rules on
 * each bus with their patterns and targets.
 *
 * - Which bus: "The name or ARN of the event bus to receive the event. Only the rules that are
 *   associated with this event bus are used to match the event. If you omit this, the default
 *   event bus is used" (EventBridge API reference, PutEventsRequestEntry `EventBusName`).
 * - Who may put: the caller's identity policies and the bus's resource policy, evaluated as IAM
 *   evaluates a request (tools/audit/policy/evaluate.ts); PutEvents carries `events:source` and
 *   `events:detail-type` in its request context (Service Authorization Reference, Amazon
 *   EventBridge, PutEvents).
 * - Which rules: {@link patternMatches}.
 */

/** One PutEvents entry as a caller writes it. */
export interface PutEventsEntry {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
  readonly resources?: readonly string[];
  /** The bus name or ARN; omitted: the default bus. */
  readonly eventBusName?: string;
}

export interface Caller {
  readonly principal: RequestPrincipal;
  readonly identity: readonly Statement[];
  readonly boundary?: readonly Statement[];
}

export interface TemplateRule {
  readonly stack: string;
  readonly logicalId: string;
  /** The bus's name (`default` for the account's default bus). */
  readonly bus: string;
  readonly pattern: Record<string, unknown>;
  /** Each target's ARN as the template resolves it. */
  readonly targets: readonly string[];
  readonly enabled: boolean;
}

export type PutEventsOutcome =
  | { readonly accepted: false; readonly bus: string; readonly authorization: Evaluation }
  | {
      readonly accepted: true;
      readonly bus: string;
      readonly authorization: Evaluation;
      /** The event as EventBridge delivers it. */
      readonly event: Record<string, unknown>;
      /** The enabled rules of the bus whose pattern matches the event. */
      readonly matched: readonly TemplateRule[];
    };

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function contextOf(values: Record<string, string>): RequestContext {
  const lower = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (key) => lower.get(key.toLowerCase()), has: (key) => lower.has(key.toLowerCase()) };
}

export class TemplateEventBridge {
  readonly inventory: Inventory;
  readonly rules: readonly TemplateRule[];
  /** Bus name → its resource policy's statements (custom buses of the assembly). */
  readonly busPolicies: ReadonlyMap<string, readonly Statement[]>;
  private readonly busByToken = new Map<string, string>();

  constructor(
    assembly: CloudAssembly,
    readonly account: string,
    readonly region: string,
  ) {
    this.inventory = buildInventory(assembly);
    const { resolver } = this.inventory;
    const policies = new Map<string, Statement[]>();
    for (const bus of this.inventory.ofType('AWS::Events::EventBus')) {
      const name = resolver.resolveString(bus.stack, bus.properties.Name) ?? bus.logicalId;
      this.busByToken.set(bus.token, name);
      const policy = resolver.resolve(bus.stack, bus.properties.Policy);
      const document = typeof policy === 'string' ? (JSON.parse(policy) as Resolved) : policy;
      policies.set(name, [record(document).Statement ?? []].flat() as Statement[]);
    }
    for (const extra of this.inventory.ofType('AWS::Events::EventBusPolicy')) {
      const name = this.busName(extra, extra.properties.EventBusName);
      policies.set(name, [
        ...(policies.get(name) ?? []),
        record(resolver.resolve(extra.stack, extra.properties.Statement)),
      ]);
    }
    this.busPolicies = policies;
    this.rules = this.inventory.ofType('AWS::Events::Rule').map((rule) => {
      const raw = resolver.resolve(rule.stack, rule.properties.EventPattern);
      const pattern = record(typeof raw === 'string' ? JSON.parse(raw) : raw);
      const targets = [resolver.resolve(rule.stack, rule.properties.Targets) ?? []]
        .flat()
        .map((t) => String(record(t).Arn));
      return {
        stack: rule.stack.name,
        logicalId: rule.logicalId,
        bus: this.busName(rule, rule.properties.EventBusName),
        pattern,
        targets,
        enabled: resolver.resolveString(rule.stack, rule.properties.State) !== 'DISABLED',
      };
    });
  }

  private busName(entry: ResourceEntry, value: unknown): string {
    if (value === undefined) return 'default';
    const resolved = this.inventory.resolver.resolveString(entry.stack, value) ?? '';
    const name = this.busByToken.get(resolved) ?? resolved;
    return name.replace(/^arn:[^:]+:events:[^:]*:[^:]*:event-bus\//, '');
  }

  busArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.account}:event-bus/${name}`;
  }

  rulesOn(bus: string): TemplateRule[] {
    return this.rules.filter((r) => r.bus === bus && r.enabled);
  }

  /** What one PutEvents entry by this caller does: refused, or the rules it sets off. */
  putEvents(caller: Caller, entry: PutEventsEntry): PutEventsOutcome {
    const bus = (entry.eventBusName ?? 'default').replace(/^arn:[^:]+:events:[^:]*:[^:]*:event-bus\//, '');
    const resource = this.busArn(bus);
    const policy = this.busPolicies.get(bus);
    const authorization = evaluateRequest(
      {
        principal: caller.principal,
        action: 'events:PutEvents',
        resource,
        context: contextOf({
          'aws:PrincipalArn': caller.principal.roleArn,
          'aws:PrincipalAccount': caller.principal.account,
          'aws:PrincipalType': 'AssumedRole',
          'events:source': entry.source,
          'events:detail-type': entry.detailType,
        }),
      },
      {
        identity: caller.identity,
        ...(caller.boundary ? { boundary: caller.boundary } : {}),
        ...(policy ? { resource: { statements: policy, mustAllow: false } } : {}),
      },
    );
    if (authorization.decision !== 'Allowed') return { accepted: false, bus, authorization };
    const event = {
      version: '0',
      id: '00000000-0000-4000-8000-000000000000',
      'detail-type': entry.detailType,
      source: entry.source,
      account: this.account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: [...(entry.resources ?? [])],
      detail: entry.detail,
    };
    return {
      accepted: true,
      bus,
      authorization,
      event,
      matched: this.rulesOn(bus).filter((r) => patternMatches(r.pattern, event)),
    };
  }
}

/**
 * Whether an EventBridge event pattern matches an event ("Event patterns" and "Content filtering"
 * in the EventBridge User Guide): "For an event pattern to match an event, the event must contain
 * all the field names listed in the event pattern. The field names must also appear in the event
 * with the same nesting structure"; "The value of each field in an event pattern is an array
 * containing one or more values. An event pattern matches the event if any of the values in the
 * array match the value in the event. If the value in the event is an array, then the event
 * pattern matches if the intersection of the event pattern array and the event array is
 * non-empty". An operator this model does not know fails the test instead of guessing.
 */
export function patternMatches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, filter]) => {
    const value = event[key];
    if (Array.isArray(filter)) return leafMatches(filter, value, key in event);
    if (filter && typeof filter === 'object') {
      const nested = Array.isArray(value) ? value : [value];
      return nested.some(
        (v) => v !== null && typeof v === 'object' && patternMatches(filter as Record<string, unknown>, record(v)),
      );
    }
    throw new Error(`event pattern field ${key} is neither an array nor an object`);
  });
}

function leafMatches(filters: readonly unknown[], value: unknown, present: boolean): boolean {
  const values = Array.isArray(value) ? value : [value];
  return filters.some((filter) => {
    if (filter === null || typeof filter !== 'object') {
      return present && values.some((v) => v === filter);
    }
    const entries = Object.entries(filter);
    if (entries.length !== 1) throw new Error(`unsupported event pattern filter ${JSON.stringify(filter)}`);
    const [operator, argument] = entries[0] as [string, unknown];
    // "exists": "matches ... whether a field is present or absent in the event".
    if (operator === 'exists') return argument === present;
    if (!present) return false;
    return values.some((v) => operatorMatches(operator, argument, v));
  });
}

function operatorMatches(operator: string, argument: unknown, value: unknown): boolean {
  const text = typeof value === 'string' ? value : undefined;
  switch (operator) {
    case 'prefix':
      return text !== undefined && typeof argument === 'string' && text.startsWith(argument);
    case 'suffix':
      return text !== undefined && typeof argument === 'string' && text.endsWith(argument);
    case 'equals-ignore-case':
      return text !== undefined && typeof argument === 'string' && text.toLowerCase() === argument.toLowerCase();
    case 'wildcard':
      return (
        text !== undefined &&
        typeof argument === 'string' &&
        new RegExp(`^${argument.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 's').test(text)
      );
    case 'anything-but': {
      if (argument && typeof argument === 'object' && !Array.isArray(argument)) {
        const [inner, innerArgument] = Object.entries(argument)[0] as [string, unknown];
        return !operatorMatches(inner, innerArgument, value);
      }
      return !(Array.isArray(argument) ? argument : [argument]).includes(value);
    }
    case 'numeric': {
      if (typeof value !== 'number' || !Array.isArray(argument)) return false;
      for (let i = 0; i < argument.length; i += 2) {
        const bound = argument[i + 1] as number;
        const ok = {
          '<': value < bound,
          '<=': value <= bound,
          '=': value === bound,
          '>': value > bound,
          '>=': value >= bound,
        }[String(argument[i]) as '<'];
        if (ok !== true) return false;
      }
      return true;
    }
    default:
      throw new Error(`event pattern operator ${operator} is not modelled (test/support/event-bridge.ts)`);
  }
}
