import type { Command } from 'commander';
import { ENV_NAME_PATTERN } from '../../contracts/ids';
import type { ConsoleAction, ConsoleResponse, ResultMap } from '../../contracts/console-api';
import { terminalSafe } from '../../contracts/display';
import type { DoctorRunner } from './doctor-command';
import type { CliRequest, ConsoleInvoker, InvokerFactory, InvokerOptions } from './invoker';

/** What every siteops command shares: its output channels, clock, options and the console call. */

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

export interface GlobalOptions {
  env: string;
  profile?: string;
  region?: string;
  json?: boolean;
  url?: string;
}

/** A command line that cannot run as written: exit code 2, and the message says what to fix. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A console call's answer: its result and the whole response, or nothing (the error is printed). */
export type CallAnswer<A extends ConsoleAction> = { result: ResultMap[A]; response: ConsoleResponse } | undefined;

/** The invoker and settings of one command. */
export interface CommandContext {
  readonly o: GlobalOptions;
  readonly invokerOptions: InvokerOptions;
  readonly invoker: ConsoleInvoker;
}

/** What a command's action uses (tools/cli/commands/). */
export interface Cli {
  readonly options: SiteopsOptions;
  readonly env: NodeJS.ProcessEnv;
  /** Writes a line to stdout, terminal-safe. */
  out(text: string): void;
  /** Writes a line to stderr, terminal-safe. */
  err(text: string): void;
  now(): Date;
  sleep(ms: number): Promise<void>;
  /** The command's invoker and settings; a malformed --env is a usage error. */
  contextOf(command: Command): CommandContext;
  /** Sends one request; prints errors and returns undefined when there is no result. */
  call<A extends ConsoleAction>(
    command: Command,
    invoker: ConsoleInvoker,
    invokerOptions: InvokerOptions,
    request: Extract<CliRequest, { action: A }>,
    quietJson?: boolean,
  ): Promise<CallAnswer<A>>;
  /** Whether the command prints for people (not --json). */
  human(command: Command): boolean;
  /** Sets the exit code (a later failure may set it again). */
  fail(code: number): void;
  /** The exit code so far. */
  exitCode(): number;
}

/** The shared context of one run of siteops. */
export function createCli(
  options: SiteopsOptions,
  defaults: {
    invokerFactory: InvokerFactory;
    prompt: (question: string) => Promise<string>;
    explain: (error: unknown, options: InvokerOptions) => string;
  },
): Cli {
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
  const factory = options.invokerFactory ?? defaults.invokerFactory;
  const prompt = options.prompt ?? defaults.prompt;
  let exitCode = EXIT_OK;

  /** The invoker and settings of one command. */
  const contextOf = (command: Command): CommandContext => {
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
  ): Promise<CallAnswer<A>> {
    const json = command.optsWithGlobals<GlobalOptions>().json;
    let response: ConsoleResponse;
    try {
      response = await invoker.invoke(request);
    } catch (error) {
      exitCode = EXIT_FAILED;
      const message = defaults.explain(error, invokerOptions);
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

  return {
    options,
    env,
    out,
    err,
    now,
    sleep,
    contextOf,
    call,
    human: (command) => !command.optsWithGlobals<GlobalOptions>().json,
    fail: (code) => {
      exitCode = code;
    },
    exitCode: () => exitCode,
  };
}
