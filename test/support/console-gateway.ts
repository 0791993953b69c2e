import { CONSOLE_API_PATH, CONSOLE_API_STAGE, type ConsoleResponse } from '../../contracts/console-api';
import { operatorRoleName } from '../../contracts/names';
import { consoleHandler } from '../../runtime/console/index';

/** The console function as `callConsole` runs it (runtime/console/index.ts `createConsoleRun`). */
export type ConsoleRun = typeof consoleHandler;

let consoleRun: ConsoleRun = consoleHandler;

/**
 * The console `callConsole` calls from now on: one built over a world's own dependencies
 * (`createConsoleRun`), or the environment's (`consoleHandler`, the default) when none is given.
 */
export function useConsole(run: ConsoleRun = consoleHandler): void {
  consoleRun = run;
}

/**
 * What the console's API hands the console function: a REST API Lambda proxy integration event
 * (API Gateway Developer Guide, "Input format of a Lambda function for proxy integration"), with
 * the caller API Gateway verified in `requestContext.identity` (IAM authorization). Tests build it
 * here; in AWS only API Gateway does.
 */

export interface GatewayCaller {
  /** The verified caller's ARN (`$context.identity.userArn`). */
  readonly userArn: string;
  readonly accountId: string;
  /** `$context.identity.caller`: the signing principal's id. */
  readonly caller?: string;
}

/** The operator role's session `session`, in the world the environment variables describe. */
export function operatorSession(session = 'alice', env: NodeJS.ProcessEnv = process.env): GatewayCaller {
  const environment = env.BULKHEAD_ENV ?? 'test';
  const account = env.BULKHEAD_ACCOUNT ?? '123456789012';
  const region = env.AWS_REGION ?? 'eu-west-1';
  return {
    userArn: `arn:aws:sts::${account}:assumed-role/${operatorRoleName(environment, region)}/${session}`,
    accountId: account,
    caller: `AROAEXAMPLEOPERATOR01:${session}`,
  };
}

export interface GatewayEventOptions {
  /** `null`: no verified identity (as with no authorization). Default: the operator's session `alice`. */
  readonly caller?: GatewayCaller | null;
  readonly requestId?: string;
  /** The raw body (default: the payload as JSON). */
  readonly body?: string;
  readonly httpMethod?: string;
  readonly stage?: string;
  readonly resourcePath?: string;
  /** The API's account (default BULKHEAD_ACCOUNT). */
  readonly account?: string;
}

let sequence = 0;

/** A proxy integration event for the console's `POST /requests` carrying `payload`. */
export function gatewayEvent(payload: unknown, options: GatewayEventOptions = {}): Record<string, unknown> {
  sequence++;
  const caller = options.caller === undefined ? operatorSession() : options.caller;
  const method = options.httpMethod ?? 'POST';
  const account = options.account ?? process.env.BULKHEAD_ACCOUNT ?? '123456789012';
  return {
    resource: options.resourcePath ?? CONSOLE_API_PATH,
    path: CONSOLE_API_PATH,
    httpMethod: method,
    headers: { 'content-type': 'application/json', 'user-agent': 'siteops' },
    multiValueHeaders: {},
    queryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: account,
      apiId: 'abcde12345',
      httpMethod: method,
      resourcePath: options.resourcePath ?? CONSOLE_API_PATH,
      path: `/${options.stage ?? CONSOLE_API_STAGE}${CONSOLE_API_PATH}`,
      stage: options.stage ?? CONSOLE_API_STAGE,
      requestId: options.requestId ?? `gw-${String(sequence).padStart(4, '0')}`,
      requestTimeEpoch: Date.now(),
      identity: {
        accessKey: caller ? 'ASIAEXAMPLEEXAMPLE01' : null,
        accountId: caller?.accountId ?? null,
        caller: caller?.caller ?? null,
        cognitoIdentityId: null,
        sourceIp: '192.0.2.10',
        principalOrgId: null,
        user: caller?.caller ?? null,
        userAgent: 'siteops',
        userArn: caller?.userArn ?? null,
      },
    },
    body: options.body ?? JSON.stringify(payload),
    isBase64Encoded: false,
  };
}

/** The console's answer to `payload` sent through its API; a 500 (an unexpected failure) throws. */
export async function callConsole(payload: unknown, options: GatewayEventOptions = {}): Promise<ConsoleResponse> {
  const answer = await consoleRun(gatewayEvent(payload, options), { awsRequestId: `lambda-${sequence}` });
  if (!('statusCode' in answer)) throw new Error(`not an API answer: ${JSON.stringify(answer)}`);
  const body = JSON.parse(answer.body) as ConsoleResponse & { errorType?: string; errorMessage?: string };
  if (answer.statusCode === 500) {
    const error = new Error(body.errorMessage ?? answer.body);
    error.name = body.errorType ?? 'Error';
    throw error;
  }
  return body;
}
