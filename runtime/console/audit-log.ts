import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ClaimedIdentity, ConsoleErrorBody } from '../../contracts/console-api';
import type { VerifiedIdentity } from './gateway';

/**
 * Every console call, in the incident table: `AUDIT#<yyyy-mm-dd>` / `<iso>#<uuid>`, written
 * before the action runs (`outcome: started`; no record, no action) and completed after it
 * (`ok` or `error`, with a one-line summary). `who` is the role session API Gateway verified
 * (the request context's `identity.userArn`, runtime/console/gateway.ts); what the body says
 * about its sender is kept apart as `claimed` and trusted for nothing. `requestId` is API
 * Gateway's request id (the stage's access log carries it too), `invocationId` Lambda's.
 * Arguments are stored without secrets.
 */

export interface Caller {
  /** The verified role session's ARN, written on incidents (`releasedBy`, `approvedBy`, `by`). */
  readonly by: string;
  readonly verified: VerifiedIdentity;
  /** What the body says about its sender (login, host): recorded, never trusted. */
  readonly claimed?: ClaimedIdentity;
  /** API Gateway's request id. */
  readonly requestId: string;
  /** The Lambda request id of this invocation. */
  readonly invocationId?: string;
}

export interface AuditEntry {
  readonly pk: string;
  readonly sk: string;
  readonly startedAt: number;
}

export interface AuditItem {
  readonly pk: string;
  readonly sk: string;
  readonly kind: 'console-call';
  readonly environment: string;
  readonly action: string;
  readonly arguments: Record<string, unknown>;
  readonly who: string;
  readonly verified: VerifiedIdentity;
  /** How `who` was established: API Gateway's IAM authorization (SigV4). */
  readonly identityVerifiedBy: 'api-gateway-iam';
  readonly claimed?: ClaimedIdentity;
  readonly requestId: string;
  readonly invocationId?: string;
  readonly startedAt: string;
  readonly outcome: 'started' | 'ok' | 'error';
  readonly finishedAt?: string;
  readonly durationMs?: number;
  readonly summary?: string;
  readonly error?: ConsoleErrorBody | { name: string; message: string };
}

const SECRET_KEY = /token|secret|password|passphrase|credential|private/i;
const MAX_ARGUMENT_CHARS = 2_000;

const RESERVED_KEYS = new Set(['constructor', '__proto__', 'prototype']);

/** The request's arguments as stored: no identity (kept apart), no secret-looking keys, bounded. */
export function auditArguments(payload: unknown): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { payload: typeof payload };
  }
  const clean = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return value.length > 500 ? `${value.slice(0, 500)}…` : value;
    // DynamoDB's marshaller refuses integers beyond 2^53 (precision would be lost): keep their text.
    if (typeof value === 'number')
      return Number.isSafeInteger(value) || !Number.isInteger(value) ? value : String(value);
    if (typeof value !== 'object' || value === null) return value;
    if (depth > 3) return '[nested]';
    if (Array.isArray(value)) return value.slice(0, 20).map((v) => clean(v, depth + 1));
    return Object.fromEntries(
      Object.entries(value)
        .slice(0, 30)
        // A key such as "constructor" would make the marshaller take the map for a class instance.
        .map(([k, v]) => [RESERVED_KEYS.has(k) ? `${k}_` : k, SECRET_KEY.test(k) ? '[redacted]' : clean(v, depth + 1)]),
    );
  };
  const { identity: _identity, ...rest } = payload as Record<string, unknown>;
  const args = clean(rest, 0) as Record<string, unknown>;
  const text = JSON.stringify(args);
  return text.length > MAX_ARGUMENT_CHARS ? { truncated: text.slice(0, MAX_ARGUMENT_CHARS) } : args;
}

export class AuditLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly environment: string,
    private readonly now: () => Date,
    private readonly newId: () => string,
  ) {}

  /** Records the call before anything else happens; throws if it cannot (and then nothing is done). */
  async begin(action: string, payload: unknown, caller: Caller): Promise<AuditEntry> {
    const started = this.now();
    const iso = started.toISOString();
    const item: AuditItem = {
      pk: `AUDIT#${iso.slice(0, 10)}`,
      sk: `${iso}#${this.newId()}`,
      kind: 'console-call',
      environment: this.environment,
      action: action.slice(0, 64),
      arguments: auditArguments(payload),
      who: caller.by,
      verified: caller.verified,
      identityVerifiedBy: 'api-gateway-iam',
      ...(caller.claimed ? { claimed: caller.claimed } : {}),
      requestId: caller.requestId,
      ...(caller.invocationId ? { invocationId: caller.invocationId } : {}),
      startedAt: iso,
      outcome: 'started',
    };
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return { pk: item.pk, sk: item.sk, startedAt: started.getTime() };
  }

  /** Completes the record with the outcome. */
  async finish(
    entry: AuditEntry,
    outcome: { ok: true; summary: string } | { ok: false; error: ConsoleErrorBody | { name: string; message: string } },
  ): Promise<void> {
    const finished = this.now();
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: entry.pk, sk: entry.sk },
        UpdateExpression: 'SET #outcome = :outcome, finishedAt = :at, durationMs = :ms, #detail = :detail',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#outcome': 'outcome', '#detail': outcome.ok ? 'summary' : 'error' },
        ExpressionAttributeValues: {
          ':outcome': outcome.ok ? 'ok' : 'error',
          ':at': finished.toISOString(),
          ':ms': finished.getTime() - entry.startedAt,
          ':detail': outcome.ok
            ? outcome.summary.slice(0, 1000)
            : { ...outcome.error, message: outcome.error.message.slice(0, 1000) },
        },
      }),
    );
  }
}
