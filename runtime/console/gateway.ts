import { CONSOLE_API_PATH, CONSOLE_API_STAGE } from '../../contracts/console-api';
import { operatorRoleName } from '../../contracts/names';

/**
 * The console's door: it answers only a request of its own API (`POST /requests` on the `console` stage,
 * IAM authorization) whose caller API Gateway verified to be a session of the operator role. With
 * a Lambda proxy integration API Gateway passes "requestContext" with "identity": "accountId",
 * "caller", "userArn", "sourceIp", "userAgent", ... (API Gateway Developer Guide, "Input format of a
 * Lambda function for proxy integration"); for IAM authorization `$context.identity.userArn` is "The
 * Amazon Resource Name (ARN) of the effective user identified after authentication",
 * `$context.identity.caller` "The principal identifier of the caller that signed the request" and
 * `$context.identity.accountId` "The AWS account ID associated with the request" (API Gateway
 * Developer Guide, "$context variables for data models, authorizers, mapping templates, and access
 * logging"). A session of a role is `arn:aws:sts::<account>:assumed-role/<role>/<session>` (IAM User
 * Guide, "IAM identifiers").
 *
 * Anything else (an event of another shape, as a direct `lambda:InvokeFunction` sends; another
 * method, path or stage; no identity; a principal that is not the operator role) is refused before
 * anything is read or written. The function's resource policy already denies every invoke but API
 * Gateway's for this API (infra/ops/ops-stack.ts); this check holds where that policy cannot be
 * written, and whatever a future policy change lets through.
 */

/** The caller as API Gateway verified it. */
export interface VerifiedIdentity {
  /** The signing principal: `arn:aws:sts::<account>:assumed-role/<operator role>/<session>`. */
  readonly userArn: string;
  /** The role session's name (the last part of `userArn`). */
  readonly session: string;
  /** The principal id that signed (`AROA...:<session>`). */
  readonly caller?: string;
  readonly accountId: string;
  readonly accessKey?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

export interface GatewayScope {
  readonly environment: string;
  readonly account: string;
  readonly region: string;
}

export type GatewayRequest =
  | {
      readonly accepted: true;
      readonly identity: VerifiedIdentity;
      /** API Gateway's request id (in the stage's access log too). */
      readonly requestId: string;
      /** The body, parsed as JSON; `undefined` when it is not JSON. */
      readonly payload: unknown;
      /** Why the body could not be read, when it could not. */
      readonly bodyProblem?: string;
    }
  | {
      readonly accepted: false;
      /** True when the event has API Gateway's proxy shape (the answer is then an HTTP response). */
      readonly fromGateway: boolean;
      readonly reason: string;
    };

/** An API Gateway proxy integration's answer. */
export interface GatewayResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const MAX_BODY_CHARS = 256 * 1024;

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function escapeForPattern(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The operator role's session ARN pattern for this environment, account and region. */
export function operatorSessionPattern(scope: GatewayScope): RegExp {
  const role = escapeForPattern(operatorRoleName(scope.environment, scope.region));
  return new RegExp(
    `^arn:aws(?:-cn|-us-gov)?:sts::${escapeForPattern(scope.account)}:assumed-role/${role}/([\\w+=,.@-]{2,64})$`,
  );
}

/** Reads an invocation event as the console's API hands it over, or says why it is refused. */
export function readGatewayRequest(event: unknown, scope: GatewayScope): GatewayRequest {
  const e = record(event);
  const context = record(e?.requestContext);
  if (!e || !context || typeof e.httpMethod !== 'string') {
    return {
      accepted: false,
      fromGateway: false,
      reason: 'not a request of the console API: the console answers only its API (siteops), never a direct invoke',
    };
  }
  const refuse = (reason: string): GatewayRequest => ({ accepted: false, fromGateway: true, reason });
  if (e.httpMethod !== 'POST' || context.httpMethod !== 'POST') return refuse(`method ${String(e.httpMethod)}`);
  if (context.stage !== CONSOLE_API_STAGE) return refuse(`stage ${String(context.stage)}`);
  if (context.resourcePath !== CONSOLE_API_PATH) return refuse(`resource ${String(context.resourcePath)}`);
  if (context.accountId !== scope.account) return refuse(`API of account ${String(context.accountId)}`);
  const identity = record(context.identity);
  const userArn = text(identity?.userArn);
  if (!identity || !userArn) return refuse('no verified caller (the method must use IAM authorization)');
  if (identity.accountId !== scope.account) return refuse(`caller of account ${String(identity.accountId)}`);
  const session = operatorSessionPattern(scope).exec(userArn)?.[1];
  if (!session) return refuse(`caller ${userArn.slice(0, 300)} is not a session of the operator role`);
  const requestId = text(context.requestId);
  if (!requestId) return refuse('no request id');

  const verified: VerifiedIdentity = {
    userArn,
    session,
    accountId: scope.account,
    ...(text(identity.caller) ? { caller: String(identity.caller).slice(0, 256) } : {}),
    ...(text(identity.accessKey) ? { accessKey: String(identity.accessKey).slice(0, 128) } : {}),
    ...(text(identity.sourceIp) ? { sourceIp: String(identity.sourceIp).slice(0, 64) } : {}),
    ...(text(identity.userAgent) ? { userAgent: String(identity.userAgent).slice(0, 256) } : {}),
  };
  let body = typeof e.body === 'string' ? e.body : '';
  if (e.isBase64Encoded === true) body = Buffer.from(body, 'base64').toString('utf8');
  if (body.length > MAX_BODY_CHARS) {
    return { accepted: true, identity: verified, requestId, payload: undefined, bodyProblem: 'the body is too large' };
  }
  try {
    return { accepted: true, identity: verified, requestId, payload: JSON.parse(body) as unknown };
  } catch {
    return { accepted: true, identity: verified, requestId, payload: undefined, bodyProblem: 'the body is not JSON' };
  }
}

/** A JSON answer through the proxy integration. */
export function gatewayResponse(statusCode: number, body: unknown): GatewayResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}
