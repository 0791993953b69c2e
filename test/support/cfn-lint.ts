import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

/**
 * cfn-lint (AWS's CloudFormation linter, written by others against CloudFormation's own
 * resource schemas), run on every template of a cloud assembly. A Python tool:
 * `pip install cfn-lint` (.ci/run checks it is there).
 */

/** Warnings accepted on Bulkhead's templates, each with the reason. */
export const ACCEPTED_CFN_LINT_WARNINGS: Record<string, string> = {
  W3005:
    'aws-cdk-lib writes a DependsOn on a function’s role beside the GetAtt that already orders them (the role’s default policy must exist first); harmless, and not ours to remove',
};

/** One finding of cfn-lint's JSON output. */
export interface CfnLintMatch {
  readonly Filename: string;
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Path: readonly (string | number)[] };
}

/** The templates of an assembly folder. */
export function templatesIn(outdir: string): string[] {
  return readdirSync(outdir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => path.join(outdir, f));
}

/** Lints the templates for a region; throws if cfn-lint cannot run or fails itself. */
export function cfnLint(templates: readonly string[], region: string): CfnLintMatch[] {
  const run = spawnSync('cfn-lint', ['--regions', region, '--format', 'json', '--', ...templates], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) {
    throw new Error(`cfn-lint could not run (${run.error.message}): install it with: pip install cfn-lint`);
  }
  // Exit codes: 0 clean, 2 errors, 4 warnings, 8 informational (ORed); anything else is cfn-lint failing.
  if (run.status === null || (run.status & ~(2 | 4 | 8)) !== 0) {
    throw new Error(`cfn-lint failed (exit ${run.status}): ${run.stderr}`);
  }
  return JSON.parse(run.stdout || '[]') as CfnLintMatch[];
}

/** A finding as one line: template, path, rule and message. */
export function describeMatch(m: CfnLintMatch): string {
  return `${path.basename(m.Filename)} ${m.Location.Path.join('/')}: ${m.Rule.Id} ${m.Message}`;
}
