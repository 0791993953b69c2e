import type { Command } from 'commander';
import type { Cli } from '../cli-context';
import { formatRotate } from '../format';

/** `siteops rotate-credentials` (docs/siteops.md). */
export function registerRotateCredentials(program: Command, cli: Cli): void {
  program
    .command('rotate-credentials')
    .description("give a site's database user a new password (Secrets Manager and the database together)")
    .argument('<site>', 'the site')
    .action(async (site: string, _opts, command: Command) => {
      const { invoker, invokerOptions } = cli.contextOf(command);
      const answer = await cli.call(command, invoker, invokerOptions, { action: 'rotate-credentials', site });
      if (answer && cli.human(command)) cli.out(formatRotate(answer.result));
    });
}
