import type { Command } from 'commander';
import type { Cli } from '../cli-context';
import { formatStatus } from '../format';

/** `siteops status` (docs/siteops.md). */
export function registerStatus(program: Command, cli: Cli): void {
  program
    .command('status')
    .description('the fleet, or one site: digest, tasks, containment, open incident')
    .argument('[site]', 'one site')
    .action(async (site: string | undefined, _opts, command: Command) => {
      const { invoker, invokerOptions } = cli.contextOf(command);
      const answer = await cli.call(command, invoker, invokerOptions, { action: 'status', ...(site ? { site } : {}) });
      if (answer && cli.human(command)) cli.out(formatStatus(answer.result));
    });
}
