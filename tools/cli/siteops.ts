import { createInterface } from 'node:readline';
import { Command, CommanderError } from 'commander';
import { consoleApiUrlParameterName } from '../../contracts/console-api';
import { createCli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, type SiteopsOptions, UsageError } from './cli-context';
import { registerApprove } from './commands/approve';
import { registerAudit } from './commands/audit';
import { registerDoctor } from './commands/doctor';
import { registerDrill } from './commands/drill';
import { registerIncidents } from './commands/incidents';
import { registerQuarantine } from './commands/quarantine';
import { registerRelease } from './commands/release';
import { registerRestore } from './commands/restore';
import { registerRotateCredentials } from './commands/rotate-credentials';
import { registerStatus } from './commands/status';
import {
  apiInvoker,
  ConsoleFunctionError,
  ConsoleNotDeployedError,
  ConsoleTimeoutError,
  type InvokerOptions,
} from './invoker';

export { type AuditModule, EXIT_FAILED, EXIT_OK, EXIT_USAGE, type SiteopsOptions } from './cli-context';

/**
 * `siteops`: the operators' command line for the ops console (docs/siteops.md). Each
 * command is one SigV4-signed request to the console's API with the operator's credentials;
 * `audit` runs offline on a synthesized cloud assembly. Exit codes: 0 ok, 1 failed (or
 * refused), 2 usage.
 */

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
  const cli = createCli(options, { invokerFactory: apiInvoker, prompt: readLine, explain });
  const env = cli.env;
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

  registerStatus(program, cli);
  registerIncidents(program, cli);
  registerQuarantine(program, cli);
  registerRelease(program, cli);
  registerRestore(program, cli);
  registerRotateCredentials(program, cli);
  registerApprove(program, cli);
  registerDrill(program, cli);
  registerDoctor(program, cli);
  registerAudit(program, cli);

  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return cli.exitCode();
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      cli.err(`siteops: ${error.message}`);
      return EXIT_USAGE;
    }
    cli.err(`siteops: ${(error as Error).name}: ${(error as Error).message}`);
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
