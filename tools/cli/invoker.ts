import { createHash, createHmac } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { hostname, userInfo } from 'node:os';
import { GetParameterCommand, SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import {
  type ClaimedIdentity,
  CONSOLE_API_PATH,
  CONSOLE_API_URL_PATTERN,
  consoleApiUrlParameterName,
  type ConsoleRequest,
  type ConsoleResponse,
} from '../../contracts/console-api';

/** A console request as the CLI builds it (the invoker adds what siteops says about its sender). */
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
  /** The console API's stage URL; default: read from SSM ({@link consoleApiUrlParameterName}). */
  readonly url?: string;
  readonly profile?: string;
  readonly region?: string;
  /** Asks the operator for a code (MFA), on the terminal. */
  readonly prompt: (question: string) => Promise<string>;
}

export type InvokerFactory = (options: InvokerOptions) => ConsoleInvoker;

/** The console failed (an unexpected error inside it; it was audited), or the API answered with an error. */
export class ConsoleFunctionError extends Error {
  override readonly name = 'ConsoleFunctionError';
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API refused the caller (403: not the operator role, or an invalid signature). */
export class ConsoleAccessDenied extends Error {
  override readonly name = 'AccessDeniedException';
}

/** The console API's URL could not be found or is not one siteops will sign for. */
export class ConsoleNotDeployedError extends Error {
  override readonly name = 'ConsoleNotDeployedError';
}

/** The API's integration timeout passed before the console answered (504); the console may still be at work. */
export class ConsoleTimeoutError extends Error {
  override readonly name = 'ConsoleTimeoutError';
}

/** Reads requests that wait on AWS (a drill, a quarantine persisting through throttling) for up to 5 minutes. */
const REQUEST_TIMEOUT_MS = 6 * 60_000;

/** SHA-256 for the signer (node:crypto), in the shape @smithy/signature-v4 asks for. */
class Sha256 implements Checksum {
  private hash;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', typeof this.secret === 'string' ? this.secret : Buffer.from(this.secret as Uint8Array));
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** Where the TCP connection goes when it is not the URL's host (tests: a local server). */
export interface ConnectTo {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http:' | 'https:';
}

/** A console API URL siteops will sign for: API Gateway's own host for a REST API stage, in `region`. */
export function checkConsoleUrl(url: string, region: string, source: string): URL {
  const match = CONSOLE_API_URL_PATTERN.exec(url);
  if (!match) {
    throw new ConsoleNotDeployedError(
      `${source} (${url.slice(0, 200)}) is not a console API URL (https://<api-id>.execute-api.<region>.amazonaws.com/console/)`,
    );
  }
  if (match[2] !== region) {
    throw new ConsoleNotDeployedError(`${source} (${url}) is in ${match[2]}, not in ${region}`);
  }
  return new URL(url.endsWith('/') ? url : `${url}/`);
}

/**
 * Calls the console's API (`POST <stage URL>requests`) signed with SigV4 for `execute-api` with the
 * operator's credentials (profile or the default chain; a profile with `mfa_serial` asks for the
 * code): "IAM authorization ... clients must use Signature Version 4 ... to sign their requests"
 * (API Gateway Developer Guide, "Control access to a REST API with IAM permissions"). API Gateway
 * checks the signature and the caller's permission before anything reaches the console, and tells
 * the console who signed. The URL comes from `--url` or the SSM parameter the Ops stack writes.
 * Requests are sent once: a retried mutating request could run twice.
 */
export function apiInvoker(options: InvokerOptions & { readonly connectTo?: ConnectTo }): ConsoleInvoker {
  // The default credential chain receives the client configuration; its profile provider reads
  // `mfaCodeProvider` from it when a profile assumes a role with `mfa_serial`.
  const config: SSMClientConfig & { mfaCodeProvider: (serial: string) => Promise<string> } = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    maxAttempts: 3,
    mfaCodeProvider: (serial) => options.prompt(`MFA code for ${serial}: `),
  };
  const ssm = new SSMClient(config);
  let target: Promise<{ url: URL; region: string }> | undefined;

  const findUrl = async () => {
    const region = await ssm.config.region();
    if (options.url) return { url: checkConsoleUrl(options.url, region, '--url'), region };
    const name = consoleApiUrlParameterName(options.environment);
    try {
      const found = await ssm.send(new GetParameterCommand({ Name: name }));
      return { url: checkConsoleUrl(found.Parameter?.Value ?? '', region, `SSM parameter ${name}`), region };
    } catch (error) {
      if ((error as Error).name === 'ParameterNotFound') {
        throw new ConsoleNotDeployedError(`no SSM parameter ${name} in ${region}`);
      }
      throw error;
    }
  };

  return {
    async invoke(request) {
      const credentials = await ssm.config.credentials();
      const { url, region } = await (target ??= findUrl());
      const claim: ClaimedIdentity = {
        user: safeUser(),
        host: hostname().slice(0, 255),
        ...(options.profile ? { profile: options.profile } : {}),
        tool: 'siteops',
      };
      const body = JSON.stringify({ ...request, identity: claim });
      const path = `${url.pathname.replace(/\/$/, '')}${CONSOLE_API_PATH}`;
      const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
      const signed = await signer.sign({
        method: 'POST',
        protocol: 'https:',
        hostname: url.hostname,
        path,
        query: {},
        headers: { host: url.hostname, 'content-type': 'application/json', accept: 'application/json' },
        body,
      });
      const answer = await send(options.connectTo ?? { host: url.hostname, port: 443, protocol: 'https:' }, {
        path,
        headers: signed.headers,
        body,
      });
      return interpret(answer);
    },
  };
}

interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

function send(
  to: ConnectTo,
  request: { path: string; headers: Record<string, string>; body: string },
): Promise<RawAnswer> {
  const transport = to.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      {
        host: to.host,
        port: to.port,
        method: 'POST',
        path: request.path,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from the console API within ${REQUEST_TIMEOUT_MS / 60_000} minutes`)),
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

function parsed(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The API's answer as siteops reports it. */
function interpret(answer: RawAnswer): ConsoleResponse {
  const body = parsed(answer.text);
  const message = String(body?.message ?? body?.Message ?? body?.errorMessage ?? answer.text).slice(0, 1000);
  if (answer.status === 200 && body && typeof body.ok === 'boolean') return body as unknown as ConsoleResponse;
  // The console's own refusal (an event it will not answer) also comes back 403.
  const consoleError = body?.error as { message?: string } | undefined;
  if (answer.status === 403) throw new ConsoleAccessDenied(consoleError?.message ?? message);
  if (answer.status === 504) {
    throw new ConsoleTimeoutError(
      `the console API did not answer within its integration timeout: ${message}. The request may still be running: look with siteops incidents`,
    );
  }
  if (answer.status === 429) throw new ConsoleFunctionError('TooManyRequestsException', `throttled: ${message}`);
  if (answer.status === 500 && body?.errorType) {
    throw new ConsoleFunctionError(String(body.errorType), String(body.errorMessage ?? message));
  }
  throw new ConsoleFunctionError(`HTTP ${answer.status}`, message);
}

function safeUser(): string | undefined {
  try {
    return userInfo().username.slice(0, 128);
  } catch {
    return process.env.USER?.slice(0, 128);
  }
}
