import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCEPTED_CFN_LINT_WARNINGS as ACCEPTED_WARNINGS,
  type CfnLintMatch,
  cfnLint,
  describeMatch as where,
  templatesIn,
} from '../support/cfn-lint';
import { synthExample, type SynthesizedFleet } from '../support/synth-fleet';

/**
 * cfn-lint on every template of the example fleet, in the fleet's region: no error, and no
 * warning but the ones test/support/cfn-lint.ts accepts, each with its reason.
 */

let fleet: SynthesizedFleet;
let matches: CfnLintMatch[];

beforeAll(() => {
  // Prepare
  fleet = synthExample();
  // Act
  matches = cfnLint(templatesIn(fleet.outdir), fleet.fleet.region ?? 'us-east-1');
});

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
