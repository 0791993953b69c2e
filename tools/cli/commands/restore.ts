import type { Command } from 'commander';
import { DIGEST_PATTERN } from '../../../contracts/console-api';
import type { IncidentsResult, IncidentView } from '../../../contracts/console-api';
import { EXIT_FAILED, UsageError } from '../cli-context';
import type { Cli } from '../cli-context';
import { formatRestore, formatSteps } from '../format';
import type { ConsoleInvoker, InvokerOptions } from '../invoker';

/** Incident states in which a restore is done: the site serves again. */
const TERMINAL_RESTORED = new Set(['RESTORED', 'CLOSED']);

/** `siteops restore` (docs/siteops.md). */
export function registerRestore(program: Command, cli: Cli): void {
  program
    .command('restore')
    .description('restore a contained site on a known-good image (new password, health-checked before it reopens)')
    .argument('<incident>', 'the incident')
    .option('--digest <sha256>', 'restore this digest instead of the newest known-good one')
    .option('--no-wait', 'return once the restore has started')
    .option('--timeout <minutes>', 'how long to follow the restore', '30')
    .option('--poll-seconds <seconds>', 'how often to look at the incident', '15')
    .action(
      async (
        incidentId: string,
        opts: { digest?: string; wait: boolean; timeout: string; pollSeconds: string },
        command: Command,
      ) => {
        if (opts.digest && !DIGEST_PATTERN.test(opts.digest)) {
          throw new UsageError(`--digest ${opts.digest}: sha256: and 64 lowercase hex digits`);
        }
        const minutes = Number(opts.timeout);
        const poll = Number(opts.pollSeconds);
        if (!(minutes > 0) || !(poll > 0)) throw new UsageError('--timeout and --poll-seconds must be positive');
        const { invoker, invokerOptions } = cli.contextOf(command);
        const json = !cli.human(command);
        // What the incident looked like before: only steps after it are progress.
        const before = opts.wait
          ? await cli.call(command, invoker, invokerOptions, { action: 'incidents', incidentId }, true)
          : undefined;
        if (opts.wait && !before) return;
        const baseline = before?.result.incidents[0]?.timeline.length ?? 0;
        const answer = await cli.call(
          command,
          invoker,
          invokerOptions,
          { action: 'restore', incidentId, ...(opts.digest ? { digest: opts.digest } : {}) },
          opts.wait,
        );
        if (!answer) return;
        if (!json) cli.out(formatRestore(answer.result));
        if (!opts.wait) return;
        const final = await followRestore(cli, invoker, invokerOptions, incidentId, baseline, minutes, poll, command);
        if (json) cli.out(JSON.stringify({ ...answer.response, final }, null, 2));
      },
    );
}

/** Polls the incident, printing its new steps on stderr, until it is restored, failed or the time is up. */
export async function followRestore(
  cli: Cli,
  invoker: ConsoleInvoker,
  invokerOptions: InvokerOptions,
  incidentId: string,
  baseline: number,
  minutes: number,
  pollSeconds: number,
  command: Command,
): Promise<IncidentView | undefined> {
  const deadline = cli.now().getTime() + minutes * 60_000;
  let printed = baseline;
  cli.err(`following the restore of ${incidentId} (up to ${minutes} min; Ctrl-C stops following, not the restore) ...`);
  for (;;) {
    const answer = await cli.call(command, invoker, invokerOptions, { action: 'incidents', incidentId }, true);
    const incident = answer ? (answer.result as IncidentsResult).incidents[0] : undefined;
    if (!incident) return undefined;
    const fresh = incident.timeline.slice(printed);
    printed = incident.timeline.length;
    for (const line of formatSteps(fresh)) cli.err(line);
    if (TERMINAL_RESTORED.has(incident.status)) {
      cli.err(
        `${incident.site} serves again on ${incident.restore?.digest ?? 'the restored image'} (${incident.status})`,
      );
      return incident;
    }
    const newFailure = incident.timeline.slice(baseline).some((s) => s.outcome === 'failed');
    if ((incident.status === 'FAILED' && newFailure) || incident.status === 'RELEASED') {
      cli.fail(EXIT_FAILED);
      cli.err(
        `restore of ${incidentId} did not finish: ${incident.status}${incident.failureReason ? `: ${incident.failureReason}` : ''}`,
      );
      return incident;
    }
    if (cli.now().getTime() >= deadline) {
      cli.fail(EXIT_FAILED);
      cli.err(`still ${incident.status} after ${minutes} min; follow it with: siteops incidents ${incidentId}`);
      return incident;
    }
    await cli.sleep(pollSeconds * 1000);
  }
}
