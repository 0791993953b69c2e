import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTION_ENVIRONMENT, type FunctionWithEnvironment } from '../../contracts/function-environment';
import { synthExample } from '../support/synth-fleet';

/**
 * The environment-variable contract (contracts/function-environment.ts) against what the
 * stacks synthesize and what the handlers read: a variable a handler needs and no stack sets
 * fails here, not in the first real incident.
 */
const LOGICAL_ID_PREFIX: Record<FunctionWithEnvironment, string> = {
  contain: 'ContainFunction',
  incident: 'IncidentFunction',
  recovery: 'RecoveryFunction',
  ledger: 'LedgerFunction',
  coverage: 'CoverageFunction',
  console: 'ConsoleFunction',
};
/** Settings of the Lambda runtime and Powertools, set by the stacks for every function. */
const RUNTIME_SETTINGS = /^(POWERTOOLS_[A-Z_]+|NODE_OPTIONS)$/;

function synthesizedVariables(fn: FunctionWithEnvironment): string[] {
  const found: string[][] = [];
  for (const template of synthExample().json.values()) {
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function' || !id.startsWith(LOGICAL_ID_PREFIX[fn])) continue;
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      found.push(Object.keys(variables ?? {}).filter((name) => !RUNTIME_SETTINGS.test(name)));
    }
  }
  if (found.length !== 1) throw new Error(`${found.length} functions named ${LOGICAL_ID_PREFIX[fn]}*`);
  return found[0] ?? [];
}

function sources(folder: string): string {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(path.join(folder, f), 'utf8'))
    .join('\n');
}

describe('function environments', () => {
  it.each(Object.keys(FUNCTION_ENVIRONMENT) as FunctionWithEnvironment[])(
    '%s: the stack sets every required variable and nothing the contract does not name',
    (fn) => {
      // Prepare
      const { required, optional } = FUNCTION_ENVIRONMENT[fn];
      // Act
      const set = synthesizedVariables(fn);
      // Assess
      expect(set).toEqual(expect.arrayContaining([...required]));
      expect(
        set.filter(
          (name) => !(required as readonly string[]).includes(name) && !(optional as readonly string[]).includes(name),
        ),
      ).toEqual([]);
    },
  );

  it.each(Object.keys(FUNCTION_ENVIRONMENT) as FunctionWithEnvironment[])(
    '%s: the handler reads its environment through the contract only',
    (fn) => {
      // Act
      const code = sources(path.join('runtime', fn));
      // Assess
      expect(code).not.toMatch(/process\.env\b/);
      expect(code).toContain(`environmentOf('${fn}')`);
    },
  );
});
