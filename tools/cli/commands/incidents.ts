import type { Command } from 'commander';
import type { IncidentsResult } from '../../../contracts/console-api';
import { UsageError } from '../cli-context';
import type { CallAnswer, Cli } from '../cli-context';
import { formatIncident, formatIncidents } from '../format';
import { parseWhen } from '../when';

/** `siteops incidents` (docs/siteops.md). */
export function registerIncidents(program: Command, cli: Cli): void {
  program
    .command('incidents')
    .description("incidents, newest first, with their times; one incident's timeline with its id")
    .argument('[incident]', 'one incident: its full timeline')
    .option('--site <site>', 'only this site')
    .option('--state <status>', 'only this status (CONTAINED, RESTORED, RELEASED, FAILED, ...)')
    .option('--since <when>', 'detected since: 30m, 24h, 7d, 2025-06-01 or an ISO date-time')
    .option('--until <when>', 'detected until (same forms)')
    .option('--limit <n>', 'at most this many (1-500)', '50')
    .action(async (incident: string | undefined, opts: Record<string, string | undefined>, command: Command) => {
      const since = opts.since ? parseWhen(opts.since, cli.now()) : undefined;
      const until = opts.until ? parseWhen(opts.until, cli.now()) : undefined;
      if (opts.since && !since)
        throw new UsageError(`--since ${opts.since}: use 30m, 24h, 7d, 2025-06-01 or an ISO date-time`);
      if (opts.until && !until)
        throw new UsageError(`--until ${opts.until}: use 30m, 24h, 7d, 2025-06-01 or an ISO date-time`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError(`--limit ${opts.limit}: 1 to 500`);
      const { invoker, invokerOptions } = cli.contextOf(command);
      const query = {
        action: 'incidents' as const,
        ...(incident ? { incidentId: incident } : {}),
        ...(opts.site ? { site: opts.site } : {}),
        ...(opts.state ? { state: opts.state.toUpperCase() as never } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
      };
      // The console answers a page at a time (each well under Lambda's 6 MB response limit):
      // ask for the next one with its nextToken until --limit incidents are here.
      const json = !cli.human(command);
      const found: IncidentsResult['incidents'][number][] = [];
      let answer: CallAnswer<'incidents'>;
      let nextToken: string | undefined;
      do {
        answer = await cli.call(
          command,
          invoker,
          invokerOptions,
          { ...query, limit: limit - found.length, ...(nextToken ? { nextToken } : {}) },
          true,
        );
        if (!answer) return;
        found.push(...answer.result.incidents);
        nextToken = answer.result.nextToken;
      } while (nextToken && found.length < limit);
      const result: IncidentsResult = {
        incidents: found,
        truncated: Boolean(nextToken),
        ...(nextToken ? { nextToken } : {}),
      };
      if (json) {
        cli.out(JSON.stringify({ ...answer.response, result }, null, 2));
        return;
      }
      const [only] = result.incidents;
      cli.out(incident && only ? formatIncident(only) : formatIncidents(result));
    });
}
