import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthExample, type SynthesizedFleet } from '../support/synth-fleet';

/**
 * cfn-lint (AWS's CloudFormation linter, written by others against CloudFormation's own
 * resource schemas) on every template of the example fleet, in the fleet's region: no error,
 * and no warning but the ones listed here with the reason each is accepted.
 * cfn-lint is a Python tool: `pip install cfn-lint` (.ci/run checks it is there).
 */
const ACCEPTED_WARNINGS: Record<string, string> = {
  W3005:
    'aws-cdk-lib writes a DependsOn on a function’s role beside the GetAtt that already orders them (the role’s default policy must exist first); harmless, and not ours to remove',
};

interface CfnLintMatch {
  readonly Filename: string;
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Path: readonly (string | number)[] };
}

let fleet: SynthesizedFleet;
let matches: CfnLintMatch[];

beforeAll(() => {
  // Prepare
  fleet = synthExample();
  const templates = readdirSync(fleet.outdir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => path.join(fleet.outdir, f));
  // Act
  const run = spawnSync(
    'cfn-lint',
    ['--regions', fleet.fleet.region ?? 'us-east-1', '--format', 'json', '--', ...templates],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (run.error) {
    throw new Error(`cfn-lint could not run (${run.error.message}): install it with: pip install cfn-lint`);
  }
  // Exit codes: 0 clean, 2 errors, 4 warnings, 8 informational (ORed); anything else is cfn-lint failing.
  if (run.status === null || (run.status & ~(2 | 4 | 8)) !== 0) {
    throw new Error(`cfn-lint failed (exit ${run.status}): ${run.stderr}`);
  }
  matches = JSON.parse(run.stdout || '[]') as CfnLintMatch[];
});

const where = (m: CfnLintMatch) =>
  `${path.basename(m.Filename)} ${m.Location.Path.join('/')}: ${m.Rule.Id} ${m.Message}`;

describe('cfn-lint on the example fleet’s templates', () => {
  it('finds no error', () => {
    expect(matches.filter((m) => m.Level === 'Error').map(where)).toEqual([]);
  });

  it('finds no warning but the accepted ones', () => {
    expect(matches.filter((m) => m.Level !== 'Error' && !ACCEPTED_WARNINGS[m.Rule.Id]).map(where)).toEqual([]);
  });

  it('lints every stack of the fleet', () => {
    const stacks = readdirSync(fleet.outdir).filter((f) => f.endsWith('.template.json'));
    expect(stacks.length).toBe(fleet.json.size);
    expect(stacks.length).toBeGreaterThanOrEqual(10);
  });
});
