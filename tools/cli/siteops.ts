import { ENV_NAME_PATTERN } from '../../contracts/ids';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Command, CommanderError } from 'commander';
import {
  type ConsoleAction,
  consoleApiUrlParameterName,
  type ConsoleResponse,
  DIGEST_PATTERN,
  type IncidentsResult,
  type IncidentView,
  type ResultMap,
} from '../../contracts/console-api';
import {
  formatApprove,
  formatDrill,
  formatIncident,
  formatIncidents,
  formatQuarantine,
  formatRelease,
  formatRestore,
  formatRotate,
  formatStatus,
  formatSteps,
} from './format';
import {
  apiInvoker,
  type CliRequest,
  ConsoleFunctionError,
  type ConsoleInvoker,
  ConsoleNotDeployedError,
  ConsoleTimeoutError,
  type InvokerFactory,
  type InvokerOptions,
} from './invoker';
import { type DoctorRunner, defaultDoctor } from './doctor-command';
import { parseWhen } from './when';
import { terminalSafe } from '../../contracts/display';
import { provenanceMismatch, readProvenance, sourceState } from '../../infra/shared/provenance';

/**
 * `siteops`: the operators' command line for the ops console (docs/siteops.md). Each
 * command is one SigV4-signed request to the console's API with the operator's credentials;
 * `audit` runs offline on a synthesized cloud assembly. Exit codes: 0 ok, 1 failed (or
 * refused), 2 usage.
 */

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** What `siteops audit` needs from tools/audit (loaded only when asked for). */
export interface AuditModule {
  runAudit(options: { cdkOut: string; htmlOut?: string }): { passed: boolean };
  formatAuditSummary(result: never): string;
}

export interface SiteopsOptions {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** How to reach the console; the default signs a request to its API (tools/cli/invoker.ts). */
  readonly invokerFactory?: InvokerFactory;
  /** Reads a line from the operator (MFA codes). */
  readonly prompt?: (question: string) => Promise<string>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
  readonly loadAudit?: () => Promise<AuditModule>;
  /**
   * Synthesizes the fleet into `cdkOut` when it holds no cloud assembly of the environment asked
   * about, or a stale one (the default runs the pinned CDK CLI).
   */
  readonly synthesize?: (environment: string, cdkOut: string, fleetFile?: string) => void;
  /** Runs `siteops doctor` (the default reads the account with the AWS SDK; tools/cli/doctor-command.ts). */
  readonly doctor?: DoctorRunner;
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

interface GlobalOptions {
  env: string;
  profile?: string;
  region?: string;
  json?: boolean;
  url?: string;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const TERMINAL_RESTORED = new Set(['RESTORED', 'CLOSED']);

function readLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  return new Promise((resolve) =>
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer.trim());
    }),
  );
}

/** Runs siteops with these arguments (without `node siteops`); resolves to the exit code. */
export async function runSiteops(argv: readonly string[], options: SiteopsOptions = {}): Promise<number> {
  const stdout = options.stdout ?? ((t: string) => process.stdout.write(t));
  const stderr = options.stderr ?? ((t: string) => process.stderr.write(t));
  // A guard on both channels: whatever a formatter missed, no control character but the line
  // feeds siteops writes itself reaches the terminal (contracts/display.ts). JSON stays JSON:
  // the escapes are JSON's own `\uXXXX`.
  const out = (t: string) => stdout(`${terminalSafe(t)}\n`);
  const err = (t: string) => stderr(`${terminalSafe(t)}\n`);
  const env = options.env ?? process.env;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? (() => new Date());
  const factory = options.invokerFactory ?? apiInvoker;
  const prompt = options.prompt ?? readLine;
  let exitCode = EXIT_OK;

  const program = new Command('siteops')
    .description('Operate a Bulkhead fleet through its ops console (status, incidents, quarantine, restore, drills)')
    .option('--env <env>', 'the environment (config/<env>.yaml)', env.BULKHEAD_ENV ?? 'example')
    .option('--profile <profile>', 'AWS profile: one that assumes the operator role with MFA')
    .option('--region <region>', 'AWS region of the fleet')
    .option('--json', 'print the console answer as JSON (for scripts)')
    .option(
      '--url <url>',
      "the console API's URL (default: $BULKHEAD_CONSOLE_URL, else the SSM parameter /bulkhead/<env>/ops/console-api-url)",
    )
    .showHelpAfterError('(siteops --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: stdout, writeErr: stderr })
    .addHelpText(
      'after',
      `
Examples:
  siteops --profile bulkhead-ops status
  siteops incidents --site acme-shop --since 7d
  siteops quarantine acme-shop --reason "defaced homepage reported by the client"
  siteops approve 20250601T120000Z-acme-shop-1a2b3c --restore
  siteops drill bakery

Exit codes: 0 ok, 1 failed or refused, 2 usage. Details: docs/siteops.md`,
    );

  /** The invoker and settings of one command. */
  const contextOf = (command: Command) => {
    const o = command.optsWithGlobals<GlobalOptions>();
    if (!ENV_NAME_PATTERN.test(o.env))
      throw new UsageError(
        `--env ${o.env}: an environment name is 2-16 characters [a-z0-9-] starting with a letter (as in the fleet file)`,
      );
    const invokerOptions: InvokerOptions = {
      environment: o.env,
      url: o.url ?? env.BULKHEAD_CONSOLE_URL,
      profile: o.profile,
      region: o.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
      prompt,
    };
    return { o, invokerOptions, invoker: factory(invokerOptions) };
  };

  /** Sends one request; prints errors and returns undefined when there is no result. */
  async function call<A extends ConsoleAction>(
    command: Command,
    invoker: ConsoleInvoker,
    invokerOptions: InvokerOptions,
    request: Extract<CliRequest, { action: A }>,
    quietJson = false,
  ): Promise<{ result: ResultMap[A]; response: ConsoleResponse } | undefined> {
    const json = command.optsWithGlobals<GlobalOptions>().json;
    let response: ConsoleResponse;
    try {
      response = await invoker.invoke(request);
    } catch (error) {
      exitCode = EXIT_FAILED;
      const message = explain(error, invokerOptions);
      if (json)
        out(JSON.stringify({ ok: false, action: request.action, error: { name: (error as Error).name, message } }));
      err(`siteops ${request.action}: ${message}`);
      return undefined;
    }
    if (json && !quietJson) out(JSON.stringify(response, null, 2));
    if (!response.ok) {
      exitCode = response.error.code === 'invalid-request' ? EXIT_USAGE : EXIT_FAILED;
      if (json && quietJson) out(JSON.stringify(response, null, 2));
      err(`siteops ${request.action}: ${response.error.message} [${response.error.code}]`);
      return undefined;
    }
    return { result: response.result as ResultMap[A], response };
  }

  const human = (command: Command) => !command.optsWithGlobals<GlobalOptions>().json;

  program
    .command('status')
    .description('the fleet, or one site: digest, tasks, containment, open incident')
    .argument('[site]', 'one site')
    .action(async (site: string | undefined, _opts, command: Command) => {
      const { invoker, invokerOptions } = contextOf(command);
      const answer = await call(command, invoker, invokerOptions, { action: 'status', ...(site ? { site } : {}) });
      if (answer && human(command)) out(formatStatus(answer.result));
    });

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
      const since = opts.since ? parseWhen(opts.since, now()) : undefined;
      const until = opts.until ? parseWhen(opts.until, now()) : undefined;
      if (opts.since && !since)
        throw new UsageError(`--since ${opts.since}: use 30m, 24h, 7d, 2025-06-01 or an ISO date-time`);
      if (opts.until && !until)
        throw new UsageError(`--until ${opts.until}: use 30m, 24h, 7d, 2025-06-01 or an ISO date-time`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError(`--limit ${opts.limit}: 1 to 500`);
      const { invoker, invokerOptions } = contextOf(command);
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
      const json = !human(command);
      const found: IncidentsResult['incidents'][number][] = [];
      let answer: Awaited<ReturnType<typeof call<'incidents'>>>;
      let nextToken: string | undefined;
      do {
        answer = await call(
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
        out(JSON.stringify({ ...answer.response, result }, null, 2));
        return;
      }
      const [only] = result.incidents;
      out(incident && only ? formatIncident(only) : formatIncidents(result));
    });

  program
    .command('quarantine')
    .description("contain a site now, exactly as automatic containment does (the operator's trigger)")
    .argument('<site>', 'the site')
    .requiredOption('--reason <text>', 'why (recorded on the incident and in the audit)')
    .action(async (site: string, opts: { reason: string }, command: Command) => {
      const { invoker, invokerOptions } = contextOf(command);
      if (human(command)) err(`quarantining ${site} ...`);
      const answer = await call(command, invoker, invokerOptions, { action: 'quarantine', site, reason: opts.reason });
      if (!answer) return;
      const r = answer.result;
      if (r.outcome === 'failed' || (r.outcome === 'joined' && r.notContained)) exitCode = EXIT_FAILED;
      if (human(command)) out(formatQuarantine(r));
    });

  program
    .command('release')
    .description('put a contained site back exactly as it was (a false positive)')
    .argument('<incident>', 'the incident')
    .option('--force', 'release even though the site changed after containment')
    .option('--reason <text>', 'why (recorded on the incident)')
    .action(async (incidentId: string, opts: { force?: boolean; reason?: string }, command: Command) => {
      const { invoker, invokerOptions } = contextOf(command);
      const answer = await call(command, invoker, invokerOptions, {
        action: 'release',
        incidentId,
        ...(opts.force ? { force: true } : {}),
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      if (!answer) return;
      if (answer.result.outcome === 'refused') exitCode = EXIT_FAILED;
      if (human(command)) out(formatRelease(answer.result));
    });

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
        const { invoker, invokerOptions } = contextOf(command);
        const json = !human(command);
        // What the incident looked like before: only steps after it are progress.
        const before = opts.wait
          ? await call(command, invoker, invokerOptions, { action: 'incidents', incidentId }, true)
          : undefined;
        if (opts.wait && !before) return;
        const baseline = before?.result.incidents[0]?.timeline.length ?? 0;
        const answer = await call(
          command,
          invoker,
          invokerOptions,
          { action: 'restore', incidentId, ...(opts.digest ? { digest: opts.digest } : {}) },
          opts.wait,
        );
        if (!answer) return;
        if (!json) out(formatRestore(answer.result));
        if (!opts.wait) return;
        const final = await followRestore(invoker, invokerOptions, incidentId, baseline, minutes, poll, command);
        if (json) out(JSON.stringify({ ...answer.response, final }, null, 2));
      },
    );

  /** Polls the incident, printing its new steps on stderr, until it is restored, failed or the time is up. */
  async function followRestore(
    invoker: ConsoleInvoker,
    invokerOptions: InvokerOptions,
    incidentId: string,
    baseline: number,
    minutes: number,
    pollSeconds: number,
    command: Command,
  ): Promise<IncidentView | undefined> {
    const deadline = now().getTime() + minutes * 60_000;
    let printed = baseline;
    err(`following the restore of ${incidentId} (up to ${minutes} min; Ctrl-C stops following, not the restore) ...`);
    for (;;) {
      const answer = await call(command, invoker, invokerOptions, { action: 'incidents', incidentId }, true);
      const incident = answer ? (answer.result as IncidentsResult).incidents[0] : undefined;
      if (!incident) return undefined;
      const fresh = incident.timeline.slice(printed);
      printed = incident.timeline.length;
      for (const line of formatSteps(fresh)) err(line);
      if (TERMINAL_RESTORED.has(incident.status)) {
        err(
          `${incident.site} serves again on ${incident.restore?.digest ?? 'the restored image'} (${incident.status})`,
        );
        return incident;
      }
      const newFailure = incident.timeline.slice(baseline).some((s) => s.outcome === 'failed');
      if ((incident.status === 'FAILED' && newFailure) || incident.status === 'RELEASED') {
        exitCode = EXIT_FAILED;
        err(
          `restore of ${incidentId} did not finish: ${incident.status}${incident.failureReason ? `: ${incident.failureReason}` : ''}`,
        );
        return incident;
      }
      if (now().getTime() >= deadline) {
        exitCode = EXIT_FAILED;
        err(`still ${incident.status} after ${minutes} min; follow it with: siteops incidents ${incidentId}`);
        return incident;
      }
      await sleep(pollSeconds * 1000);
    }
  }

  program
    .command('rotate-credentials')
    .description("give a site's database user a new password (Secrets Manager and the database together)")
    .argument('<site>', 'the site')
    .action(async (site: string, _opts, command: Command) => {
      const { invoker, invokerOptions } = contextOf(command);
      const answer = await call(command, invoker, invokerOptions, { action: 'rotate-credentials', site });
      if (answer && human(command)) out(formatRotate(answer.result));
    });

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
        const { invoker, invokerOptions } = contextOf(command);
        const answer = await call(command, invoker, invokerOptions, {
          action: 'approve',
          incidentId,
          decision: opts.restore ? 'restore' : 'false-positive',
          ...(opts.digest ? { digest: opts.digest } : {}),
        });
        if (!answer) return;
        if (answer.result.outcome === 'already-decided') exitCode = EXIT_FAILED;
        if (human(command)) out(formatApprove(answer.result));
      },
    );

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
      const { invoker, invokerOptions } = contextOf(command);
      err(
        `drill on ${site}: sending a synthetic finding; waiting up to ${timeoutSeconds} s for containment, then releasing ...`,
      );
      const started = Date.now();
      const ticker = setInterval(() => err(`  ... ${Math.round((Date.now() - started) / 1000)} s`), 10_000);
      ticker.unref();
      try {
        const answer = await call(command, invoker, invokerOptions, { action: 'drill', site, timeoutSeconds });
        if (!answer) return;
        if (!answer.result.released || answer.result.status === 'FAILED') exitCode = EXIT_FAILED;
        if (human(command)) out(formatDrill(answer.result));
      } finally {
        clearInterval(ticker);
      }
    });

  program
    .command('doctor')
    .description(
      'before (and after) a deploy: GuardDuty, coverage per site, quotas and database connections against the account',
    )
    .option('--fleet <file>', 'the fleet file (default config/<env>.yaml)')
    .action(async (opts: { fleet?: string }, command: Command) => {
      const o = command.optsWithGlobals<GlobalOptions>();
      const doctor = await (options.doctor ?? defaultDoctor)({
        env: o.env,
        profile: o.profile,
        region: o.region ?? env.AWS_REGION,
        fleet: opts.fleet,
      });
      out(o.json ? JSON.stringify(doctor.items, null, 2) : doctor.text);
      if (doctor.blocked) exitCode = EXIT_FAILED;
    });

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
        audit = await (options.loadAudit ?? (() => import('../audit/index') as Promise<AuditModule>))();
        if (typeof audit?.runAudit !== 'function') throw new Error('tools/audit exports no runAudit');
      } catch (error) {
        exitCode = EXIT_FAILED;
        err(
          `siteops audit: the isolation audit (tools/audit) is not available in this checkout: ${(error as Error).message}`,
        );
        return;
      }
      let result: { passed: boolean };
      try {
        prepareAssembly(opts, command, options.synthesize ?? synthesizeWithCdk, err);
        result = audit.runAudit({ cdkOut: opts.cdkOut, ...(opts.html ? { htmlOut: opts.html } : {}) });
      } catch (error) {
        exitCode = EXIT_FAILED;
        err(`siteops audit: ${(error as Error).message}`);
        return;
      }
      out(human(command) ? audit.formatAuditSummary(result as never) : JSON.stringify(result, null, 2));
      if (opts.html && human(command)) out(`HTML report: ${opts.html}`);
      if (!result.passed) exitCode = EXIT_FAILED;
    });

  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      err(`siteops: ${error.message}`);
      return EXIT_USAGE;
    }
    err(`siteops: ${(error as Error).name}: ${(error as Error).message}`);
    return EXIT_FAILED;
  }
}

/** A clear sentence for what went wrong reaching the console. */
export function explain(
  error: unknown,
  options: Pick<InvokerOptions, 'environment' | 'url' | 'profile' | 'region'>,
): string {
  const e = error as Error;
  const name = e?.name ?? 'Error';
  const message = e?.message ?? String(error);
  const env = options.environment;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return (
      `no AWS credentials${options.profile ? ` from profile ${options.profile}` : ''}: ${message}\n` +
      '  use --profile with a profile that assumes the operator role with MFA (docs/siteops.md)'
    );
  }
  if (error instanceof ConsoleNotDeployedError) {
    return (
      `the ops console API is not deployed${options.region ? ` in ${options.region}` : ''} (${message}): ` +
      `deploy Bulkhead-${env}-Ops first: npx cdk deploy Bulkhead-${env}-Ops -c env=${env}` +
      `, or pass --url (the stack output ConsoleApiUrl; SSM ${consoleApiUrlParameterName(env)})`
    );
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'UnauthorizedOperation') {
    return (
      `not allowed to call the ops console of ${env}: ${message}\n` +
      '  only the operator role may, assumed with MFA (docs/siteops.md)'
    );
  }
  if (error instanceof ConsoleTimeoutError) return message;
  if (name === 'ExpiredTokenException' || name === 'ExpiredToken' || /security token .* expired/i.test(message)) {
    return `your AWS session has expired: assume the operator role again (${message})`;
  }
  if (/region is missing/i.test(message)) {
    return 'no AWS region: pass --region, set AWS_REGION, or give the profile a region';
  }
  if (error instanceof ConsoleFunctionError) {
    return `the ops console failed: ${error.errorType}: ${message} (the call is in the audit; see the function's log and the API's access log)`;
  }
  return `${name}: ${message}`;
}
