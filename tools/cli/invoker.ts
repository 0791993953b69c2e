import { hostname, userInfo } from 'node:os';
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import type { ClaimedIdentity, ConsoleRequest, ConsoleResponse } from '../../contracts/console-api';

/** A console request as the CLI builds it (the invoker adds who is asking). */
export type CliRequest = ConsoleRequest extends infer R
  ? R extends ConsoleRequest
    ? Omit<R, 'identity'>
    : never
  : never;

/** Sends one request to the ops console and returns its answer. */
export interface ConsoleInvoker {
  invoke(request: CliRequest): Promise<ConsoleResponse>;
}

export interface InvokerOptions {
  readonly environment: string;
  readonly functionName: string;
  readonly profile?: string;
  readonly region?: string;
  /** Asks the operator for a code (MFA), on the terminal. */
  readonly prompt: (question: string) => Promise<string>;
}

export type InvokerFactory = (options: InvokerOptions) => ConsoleInvoker;

/** The console function failed (an unexpected error inside it; it was audited). */
export class ConsoleFunctionError extends Error {
  override readonly name = 'ConsoleFunctionError';
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

/** The key the console reads the caller's claimed identity from (runtime/console/index.ts). */
const IDENTITY_KEY = 'bulkheadIdentity';

/** Reads requests that wait on AWS (a drill, a quarantine persisting through throttling) for up to 5 minutes. */
const REQUEST_TIMEOUT_MS = 6 * 60_000;

/**
 * Invokes `bulkhead-<env>-ops-console` with Lambda's Invoke (RequestResponse), signed with the
 * operator's credentials (profile or the default chain; a profile with `mfa_serial` asks for
 * the code). Mutating actions are sent once: a retried Invoke could run them twice.
 */
export function lambdaInvoker(options: InvokerOptions): ConsoleInvoker {
  const make = (maxAttempts: number) => {
    // The default credential chain receives the client configuration; its profile provider
    // reads `mfaCodeProvider` from it when a profile assumes a role with `mfa_serial`.
    const config: LambdaClientConfig & { mfaCodeProvider: (serial: string) => Promise<string> } = {
      ...(options.region ? { region: options.region } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
      maxAttempts,
      requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS },
      mfaCodeProvider: (serial) => options.prompt(`MFA code for ${serial}: `),
    };
    return new LambdaClient(config);
  };
  let reads: LambdaClient | undefined;
  let writes: LambdaClient | undefined;
  return {
    async invoke(request) {
      const readOnly = request.action === 'status' || request.action === 'incidents';
      const client = readOnly ? (reads ??= make(3)) : (writes ??= make(1));
      const credentials = await client.config.credentials();
      const identity: ClaimedIdentity = {
        user: safeUser(),
        host: hostname().slice(0, 255),
        ...(options.profile ? { profile: options.profile } : {}),
        accessKeyId: credentials.accessKeyId,
        tool: 'siteops',
      };
      const clientContext = Buffer.from(JSON.stringify({ custom: { [IDENTITY_KEY]: identity } })).toString('base64');
      const result = await client.send(
        new InvokeCommand({
          FunctionName: options.functionName,
          InvocationType: 'RequestResponse',
          ClientContext: clientContext,
          Payload: new TextEncoder().encode(JSON.stringify(request)),
        }),
      );
      const text = result.Payload ? new TextDecoder().decode(result.Payload) : '';
      if (result.FunctionError) {
        let parsed: { errorType?: string; errorMessage?: string } = {};
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          // not JSON: report as is
        }
        throw new ConsoleFunctionError(parsed.errorType ?? result.FunctionError, parsed.errorMessage ?? text);
      }
      return JSON.parse(text) as ConsoleResponse;
    },
  };
}

function safeUser(): string | undefined {
  try {
    return userInfo().username.slice(0, 128);
  } catch {
    return process.env.USER?.slice(0, 128);
  }
}
