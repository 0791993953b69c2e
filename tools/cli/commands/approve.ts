import type { Command } from 'commander';
import { DIGEST_PATTERN } from '../../../contracts/console-api';
import { EXIT_FAILED, UsageError } from '../cli-context';
import type { Cli } from '../cli-context';
import { formatApprove } from '../format';

/** `siteops approve` (docs/siteops.md). */
export function registerApprove(program: Command, cli: Cli): void {
  program
    .command('approve')
    .description("answer an incident's wait for a decision: restore it, or release it as a false positive")
    .argument('<incident>', 'the incident')
    .option('--restore', 'restore the site on a known-good image')
    .option('--false-positive', 'release the site as it was')
    .option('--digest <sha256>', 'with --restore: this digest instead of the newest known-good one')
    .action(
      async (
        incidentId: string,
        opts: { restore?: boolean; falsePositive?: boolean; digest?: string },
        command: Command,
      ) => {
        if (Boolean(opts.restore) === Boolean(opts.falsePositive)) {
          throw new UsageError('say either --restore or --false-positive');
        }
        if (opts.digest && !opts.restore) throw new UsageError('--digest goes with --restore only');
        if (opts.digest && !DIGEST_PATTERN.test(opts.digest)) {
          throw new UsageError(`--digest ${opts.digest}: sha256: and 64 lowercase hex digits`);
        }
        const { invoker, invokerOptions } = cli.contextOf(command);
        const answer = await cli.call(command, invoker, invokerOptions, {
          action: 'approve',
          incidentId,
          decision: opts.restore ? 'restore' : 'false-positive',
          ...(opts.digest ? { digest: opts.digest } : {}),
        });
        if (!answer) return;
        if (answer.result.outcome === 'already-decided') cli.fail(EXIT_FAILED);
        if (cli.human(command)) cli.out(formatApprove(answer.result));
      },
    );
}
