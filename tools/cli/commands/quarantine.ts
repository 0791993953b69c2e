import type { Command } from 'commander';
import { EXIT_FAILED } from '../cli-context';
import type { Cli } from '../cli-context';
import { formatQuarantine } from '../format';

/** `siteops quarantine` (docs/siteops.md). */
export function registerQuarantine(program: Command, cli: Cli): void {
  program
    .command('quarantine')
    .description("contain a site now, exactly as automatic containment does (the operator's trigger)")
    .argument('<site>', 'the site')
    .requiredOption('--reason <text>', 'why (recorded on the incident and in the audit)')
    .action(async (site: string, opts: { reason: string }, command: Command) => {
      const { invoker, invokerOptions } = cli.contextOf(command);
      if (cli.human(command)) cli.err(`quarantining ${site} ...`);
      const answer = await cli.call(command, invoker, invokerOptions, {
        action: 'quarantine',
        site,
        reason: opts.reason,
      });
      if (!answer) return;
      const r = answer.result;
      if (r.outcome === 'failed' || (r.outcome === 'joined' && r.notContained)) cli.fail(EXIT_FAILED);
      if (cli.human(command)) cli.out(formatQuarantine(r));
    });
}
