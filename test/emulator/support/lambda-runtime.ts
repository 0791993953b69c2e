import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { assumeRole } from './clients';
import type { EmulatedFunction } from './deploy';

/**
 * Runs a function's bundled code (the `asset.<hash>/index.js` that `cdk synth` writes) the way
 * Lambda does: a fresh Node process, the function's environment variables from its template,
 * credentials of its own role (moto's STS, so its calls land in the world's account), its
 * region and AWS_ENDPOINT_URL pointing at moto. The AWS SDK is left out of the bundle (Lambda's
 * runtime provides it), so the process finds it in this repository's node_modules (NODE_PATH).
 */

const BOOTSTRAP = path.join(__dirname, 'lambda-bootstrap.mjs');
const NODE_MODULES = path.resolve(__dirname, '..', '..', '..', 'node_modules');

export interface InvokeOptions {
  /** Variables the test adds to the function's own (each one named and explained where used). */
  readonly extraEnvironment?: Readonly<Record<string, string>>;
  /** Lambda's client context (`context.clientContext`), as `aws lambda invoke --client-context` sends it. */
  readonly clientContext?: unknown;
}

export interface Invocation {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly errorType: string; readonly errorMessage: string; readonly stack?: string };
  /** What the function wrote to stdout and stderr (its log lines). */
  readonly logs: string;
  readonly durationMs: number;
}

export async function invokeFunction(
  endpoint: string,
  region: string,
  fn: EmulatedFunction,
  event: unknown,
  options: InvokeOptions = {},
): Promise<Invocation> {
  const credentials = await assumeRole(endpoint, fn.roleArn, fn.name);
  const requestId = randomUUID();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_PATH: NODE_MODULES,
    TZ: 'UTC',
    LANG: 'en_US.UTF-8',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    LAMBDA_TASK_ROOT: fn.codeDirectory,
    _HANDLER: fn.handler,
    ...fn.environment,
    ...options.extraEnvironment,
  };
  const started = Date.now();
  const child = fork(BOOTSTRAP, [], { env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let logs = '';
  child.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  const timeoutMs = fn.timeoutSeconds * 1000;
  const answer = await new Promise<Omit<Invocation, 'logs' | 'durationMs'>>((resolve) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      resolve({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `timed out after ${timeoutMs} ms` } });
    }, timeoutMs + 5_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as Omit<Invocation, 'logs' | 'durationMs'>);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        error: { errorType: 'Runtime.ExitError', errorMessage: `exited (code ${code}, signal ${signal})` },
      });
    });
    child.send({
      codeDirectory: fn.codeDirectory,
      handler: fn.handler,
      event,
      context: {
        awsRequestId: requestId,
        functionName: fn.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: fn.arn,
        memoryLimitInMB: String(fn.memoryMb),
        logGroupName: `/aws/lambda/${fn.name}`,
        logStreamName: `emulator/${requestId}`,
        timeoutMs,
        ...(options.clientContext !== undefined ? { clientContext: options.clientContext } : {}),
      },
    });
  });
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  return { ...answer, logs, durationMs: Date.now() - started };
}
