import type { Command } from 'commander';
import { EXIT_FAILED } from '../cli-context';
import type { Cli } from '../cli-context';
import { formatRelease } from '../format';

/** `siteops release` (docs/siteops.md). */
export function registerRelease(program: Command, cli: Cli): void {
  program
    .command('release')
    .description('put a contained site back exactly as it was (a false positive)')
    .argument('<incident>', 'the incident')
    .option('--force', 'release even though the site changed after containment')
    .option('--reason <text>', 'why (recorded on the incident)')
    .action(async (incidentId: string, opts: { force?: boolean; reason?: string }, command: Command) => {
      const { invoker, invokerOptions } = cli.contextOf(command);
      const answer = await cli.call(command, invoker, invokerOptions, {
        action: 'release',
        incidentId,
        ...(opts.force ? { force: true } : {}),
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      if (!answer) return;
      if (answer.result.outcome === 'refused') cli.fail(EXIT_FAILED);
      if (cli.human(command)) cli.out(formatRelease(answer.result));
    });
}
