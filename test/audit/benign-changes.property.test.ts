import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly } from '../../tools/audit';
import { exampleAssembly, type MutableTemplate } from './audit-support';

/**
 * No false alarms: changes that open no path (the order of resources, statements and rules;
 * descriptions; tags outside the bulkhead: contract; capacity) leave the example fleet with no
 * finding and nothing to review, whatever combination of them is made.
 */
let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

type Resource = MutableTemplate['Resources'][string];

/** A small deterministic generator for shuffles and picks, from a fast-check seed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function shuffle<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

interface Change {
  readonly reorderResources: boolean;
  readonly reorderStatements: boolean;
  readonly reorderRules: boolean;
  readonly describe: string | undefined;
  readonly tag: { readonly key: string; readonly value: string } | undefined;
  readonly capacity:
    | { readonly desired: number; readonly cpu: number; readonly memory: number; readonly connections: number }
    | undefined;
  readonly seed: number;
}

const change: fc.Arbitrary<Change> = fc.record({
  reorderResources: fc.boolean(),
  reorderStatements: fc.boolean(),
  reorderRules: fc.boolean(),
  describe: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
  tag: fc.option(
    fc.record({
      key: fc.constantFrom('team', 'cost-center', 'owner', 'Name'),
      value: fc.string({ minLength: 1, maxLength: 20 }),
    }),
    { nil: undefined },
  ),
  capacity: fc.option(
    fc.record({
      desired: fc.integer({ min: 0, max: 20 }),
      cpu: fc.constantFrom(256, 512, 1024, 2048),
      memory: fc.constantFrom(512, 1024, 2048, 4096),
      connections: fc.integer({ min: 5, max: 200 }),
    }),
    { nil: undefined },
  ),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

function apply(template: MutableTemplate, c: Change, next: () => number): void {
  if (c.reorderResources) {
    template.Resources = Object.fromEntries(shuffle(Object.entries(template.Resources), next));
  }
  for (const resource of Object.values(template.Resources) as Resource[]) {
    const p = resource.Properties ?? {};
    if (c.reorderStatements && resource.Type === 'AWS::IAM::Policy') {
      const document = p.PolicyDocument as { Statement: unknown[] };
      shuffle(document.Statement, next);
    }
    if (c.reorderRules && Array.isArray(p.SecurityGroupEgress)) shuffle(p.SecurityGroupEgress, next);
    if (c.describe !== undefined) {
      if (typeof p.Description === 'string') p.Description = c.describe;
      if (typeof p.AlarmDescription === 'string') p.AlarmDescription = c.describe;
    }
    if (c.tag && Array.isArray(p.Tags)) {
      (p.Tags as { Key: string; Value: unknown }[]).push({ Key: c.tag.key, Value: c.tag.value });
    }
    if (c.capacity) {
      if (resource.Type === 'AWS::ECS::Service') p.DesiredCount = c.capacity.desired;
      if (resource.Type === 'AWS::ECS::TaskDefinition') {
        p.Cpu = String(c.capacity.cpu);
        p.Memory = String(c.capacity.memory);
      }
      if (resource.Type === 'Custom::BulkheadDatabaseUser') p.MaxConnections = String(c.capacity.connections);
    }
  }
}

describe('benign changes (property)', () => {
  it('finds no path and nothing to review after any mix of reordering, descriptions, tags and capacity', () => {
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 3 }), (changes) => {
        // Prepare: each change applied to every stack of a copy of the example.
        const copy = structuredClone(assembly);
        for (const c of changes) {
          const next = random(c.seed);
          for (const stack of copy.stacks) apply(stack.template as unknown as MutableTemplate, c, next);
        }

        // Act
        const result = auditAssembly(copy);

        // Assess
        expect(result.findings).toEqual([]);
        expect(result.reviews).toEqual([]);
        expect(result.passed).toBe(true);
      }),
      { numRuns: 20, seed: 1717 },
    );
  });
});
