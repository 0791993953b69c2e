import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { provenanceMismatch, readProvenance, sourceState } from '../../../infra/shared/provenance';
import { EXIT_FAILED } from '../cli-context';
import type { AuditModule, Cli, GlobalOptions, SiteopsOptions } from '../cli-context';

/** `siteops audit` (docs/siteops.md). */
export function registerAudit(program: Command, cli: Cli): void {
  program
    .command('audit')
    .description(
      'isolation audit of the environment (offline: synthesizes config/<env>.yaml into cdk.out unless it is already there, needs no AWS access)',
    )
    .option('--cdk-out <dir>', 'the cloud assembly to audit (given: it is audited as it is, or refused)', 'cdk.out')
    .option('--fleet <file>', 'the fleet file (default config/<env>.yaml)')
    .option('--no-synth', 'refuse a missing, stale or foreign assembly instead of synthesizing the environment')
    .option('--html <file>', 'also write the HTML report here')
    .action(async (opts: AuditCommandOptions, command: Command) => {
      let audit: AuditModule;
      try {
        audit = await (cli.options.loadAudit ?? (() => import('../../audit/index') as Promise<AuditModule>))();
        if (typeof audit?.runAudit !== 'function') throw new Error('tools/audit exports no runAudit');
      } catch (error) {
        cli.fail(EXIT_FAILED);
        cli.err(
          `siteops audit: the isolation audit (tools/audit) is not available in this checkout: ${(error as Error).message}`,
        );
        return;
      }
      let result: { passed: boolean };
      try {
        prepareAssembly(opts, command, cli.options.synthesize ?? synthesizeWithCdk, (text) => cli.err(text));
        result = audit.runAudit({ cdkOut: opts.cdkOut, ...(opts.html ? { htmlOut: opts.html } : {}) });
      } catch (error) {
        cli.fail(EXIT_FAILED);
        cli.err(`siteops audit: ${(error as Error).message}`);
        return;
      }
      cli.out(cli.human(command) ? audit.formatAuditSummary(result as never) : JSON.stringify(result, null, 2));
      if (opts.html && cli.human(command)) cli.out(`HTML report: ${opts.html}`);
      if (!result.passed) cli.fail(EXIT_FAILED);
    });
}

/** `npx cdk synth` of one environment (or fleet file) into `cdkOut`, with the project's pinned CLI, quietly. */
function synthesizeWithCdk(environment: string, cdkOut: string, fleetFile?: string): void {
  const context = fleetFile ? ['-c', `fleet=${fleetFile}`] : ['-c', `env=${environment}`];
  const result = spawnSync(
    process.execPath,
    [require.resolve('aws-cdk/bin/cdk'), 'synth', '--quiet', ...context, '--output', cdkOut],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`cdk synth ${context.join(' ')} failed (exit ${result.status})`);
}

interface AuditCommandOptions {
  cdkOut: string;
  fleet?: string;
  synth: boolean;
  html?: string;
}

/**
 * Makes sure `opts.cdkOut` holds the assembly asked about, or says why not. With the default
 * directory, a missing, foreign (another environment or fleet file) or stale (older fleet file
 * or source) assembly is synthesized again; a directory given with `--cdk-out`, or `--no-synth`,
 * is never overwritten: it is audited as it is when it is what was asked for, else refused.
 */
function prepareAssembly(
  opts: AuditCommandOptions,
  command: Command,
  synthesize: NonNullable<SiteopsOptions['synthesize']>,
  err: (text: string) => void,
): void {
  const global = command.optsWithGlobals<GlobalOptions>();
  const envAsked = command.parent?.getOptionValueSource('env') === 'cli' || opts.fleet !== undefined;
  const dirGiven = command.getOptionValueSource('cdkOut') === 'cli';
  const fleetFile = opts.fleet ?? path.join('config', `${global.env}.yaml`);
  const source = sourceState();
  const asked = {
    ...(envAsked || !dirGiven ? { fleetFile } : {}),
    ...(envAsked && !opts.fleet ? { environment: global.env } : {}),
    source,
  };
  const synthesizeInto = (why: string) => {
    if (!opts.synth) throw new Error(`refusing ${opts.cdkOut}: ${why} (--no-synth)`);
    err(`siteops audit: ${why}; synthesizing ${global.env} first (${fleetFile} into ${opts.cdkOut}) ...`);
    synthesize(global.env, opts.cdkOut, opts.fleet);
    const still = provenanceMismatch(readProvenance(opts.cdkOut), asked);
    if (still) throw new Error(`refusing ${opts.cdkOut} after synthesizing: ${still}`);
  };
  if (!existsSync(path.join(opts.cdkOut, 'manifest.json'))) {
    synthesizeInto(`no cloud assembly in ${opts.cdkOut}`);
    return;
  }
  const mismatch = provenanceMismatch(readProvenance(opts.cdkOut), asked);
  if (!mismatch) return;
  if (dirGiven) {
    throw new Error(
      `refusing ${opts.cdkOut}: ${mismatch}. Synthesize it again (npx cdk synth -c env=<env> --output ${opts.cdkOut}) or leave out --cdk-out to let siteops synthesize ${fleetFile}`,
    );
  }
  synthesizeInto(`${opts.cdkOut} is not the current assembly of ${fleetFile}: ${mismatch}`);
}
