import type { Command } from 'commander';
import { EXIT_FAILED, UsageError } from '../cli-context';
import type { Cli } from '../cli-context';
import { formatDrill } from '../format';

/** `siteops drill` (docs/siteops.md). */
export function registerDrill(program: Command, cli: Cli): void {
  program
    .command('drill')
    .description("send a synthetic finding about one of the site's tasks, time the containment, then release it")
    .argument('<site>', 'the site')
    .option('--timeout <seconds>', 'how long to wait for containment (10-240)', '120')
    .action(async (site: string, opts: { timeout: string }, command: Command) => {
      const timeoutSeconds = Number(opts.timeout);
      if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 10 || timeoutSeconds > 240) {
        throw new UsageError(`--timeout ${opts.timeout}: 10 to 240 seconds`);
      }
      const { invoker, invokerOptions } = cli.contextOf(command);
      cli.err(
        `drill on ${site}: sending a synthetic finding; waiting up to ${timeoutSeconds} s for containment, then releasing ...`,
      );
      const started = Date.now();
      const ticker = setInterval(() => cli.err(`  ... ${Math.round((Date.now() - started) / 1000)} s`), 10_000);
      ticker.unref();
      try {
        const answer = await cli.call(command, invoker, invokerOptions, { action: 'drill', site, timeoutSeconds });
        if (!answer) return;
        if (!answer.result.released || answer.result.status === 'FAILED') cli.fail(EXIT_FAILED);
        if (cli.human(command)) cli.out(formatDrill(answer.result));
      } finally {
        clearInterval(ticker);
      }
    });
}
