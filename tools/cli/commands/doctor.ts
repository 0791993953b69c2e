import type { Command } from 'commander';
import { EXIT_FAILED } from '../cli-context';
import type { Cli, GlobalOptions } from '../cli-context';
import { defaultDoctor } from '../doctor-command';

/** `siteops doctor` (docs/siteops.md). */
export function registerDoctor(program: Command, cli: Cli): void {
  program
    .command('doctor')
    .description(
      'before (and after) a deploy: GuardDuty, coverage per site, quotas and database connections against the account',
    )
    .option('--fleet <file>', 'the fleet file (default config/<env>.yaml)')
    .action(async (opts: { fleet?: string }, command: Command) => {
      const o = command.optsWithGlobals<GlobalOptions>();
      const doctor = await (cli.options.doctor ?? defaultDoctor)({
        env: o.env,
        profile: o.profile,
        region: o.region ?? cli.env.AWS_REGION,
        fleet: opts.fleet,
      });
      cli.out(o.json ? JSON.stringify(doctor.items, null, 2) : doctor.text);
      if (doctor.blocked) cli.fail(EXIT_FAILED);
    });
}
