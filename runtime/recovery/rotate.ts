import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { otherAccountOf } from '../../contracts/database-accounts';
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { RotationError } from './errors';

export { RotationError };

export interface RotationDeps {
  readonly secrets: SecretsManagerClient;
  readonly lambda: LambdaClient;
  /** The database-user provider function (the only one that reaches the database). */
  readonly databaseUserFunction: string;
  readonly newToken: () => string;
}

/**
 * - `serving`: the site serves; its running tasks hold the current credentials and ECS gives
 *   a task its secrets only when it starts. The new password goes to the site's *other*
 *   account (Secrets Manager's "alternating users" strategy), so the running tasks keep
 *   connecting; new tasks (a deployment) take the new account. The previous credentials
 *   stay valid until the next rotation, as that strategy documents.
 * - `incident`: the site is contained. The password changes in place on the current
 *   account, the other account is locked and every open session of the site is killed:
 *   every earlier password stops at once. The contained tasks lose the database.
 */
export type RotationMode = 'serving' | 'incident';

export interface RotationResult {
  readonly siteId: string;
  readonly previousVersionId: string;
  readonly currentVersionId: string;
  readonly mode: RotationMode;
  /** The database account the secret names now. */
  readonly account: string;
  /** Sessions of the site's accounts killed (incident only). */
  readonly sessionsKilled: number;
  readonly sessionsNotKilled: number;
}

async function invokePasswordAction(
  deps: RotationDeps,
  action: 'apply-pending-password' | 'revert-password',
  siteId: string,
  secretArn: string,
) {
  const result = await deps.lambda.send(
    new InvokeCommand({
      FunctionName: deps.databaseUserFunction,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify({ action, siteId, secretArn })),
    }),
  );
  const payload = result.Payload ? new TextDecoder().decode(result.Payload) : '';
  if (result.FunctionError) {
    const message = (() => {
      try {
        return (JSON.parse(payload) as { errorMessage?: string }).errorMessage ?? payload;
      } catch {
        return payload;
      }
    })();
    throw new RotationError(`${action} failed for ${siteId}: ${message}`);
  }
  return JSON.parse(payload) as { loginVerified: boolean; sessionsKilled?: number; sessionsNotKilled?: number };
}

/** Best effort: the AWSPENDING label is bookkeeping; the version itself is kept. */
async function dropPendingLabel(deps: RotationDeps, secretArn: string, token: string): Promise<void> {
  await deps.secrets
    .send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretArn,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: token,
      }),
    )
    .catch(() => undefined);
}

/**
 * A serving rotation changes the account the previous version named. Tasks that started
 * before the current version was written (ECS gives a task its secrets when it starts) may
 * still use it; then a rotation now would break them.
 */
async function refuseIfStillInUse(
  deps: RotationDeps,
  secretArn: string,
  account: string,
  currentSince: Date | undefined,
  runningSince: Date | undefined,
): Promise<void> {
  if (!runningSince || !currentSince || runningSince.getTime() > currentSince.getTime()) return;
  const previous = await deps.secrets
    .send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSPREVIOUS' }))
    .catch((error: unknown) => {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    });
  const previousUser = (() => {
    try {
      return (JSON.parse(previous?.SecretString ?? '{}') as { username?: unknown }).username;
    } catch {
      return undefined;
    }
  })();
  if (previousUser === account) {
    throw new RotationError(
      `tasks of the site started before the last rotation (${currentSince.toISOString()}) and may still use ${account}, which this rotation would change; wait until a deployment has replaced them, then rotate again`,
    );
  }
}

/**
 * Rotates a site's database password the Secrets Manager way: a new AWSPENDING version (the
 * other account when serving, the same one during an incident: see {@link RotationMode}),
 * the database side through the database-user provider (which proves the new login), then
 * AWSCURRENT moves to it. At every failure the pair stays consistent: before the database
 * changed, AWSCURRENT still holds the working credentials; if the database changed but
 * promotion failed, the database is set back. Nothing is deleted: the old version stays as
 * AWSPREVIOUS.
 *
 * Why two accounts and not dual passwords: Aurora MySQL 3 (MySQL 8.0) has dual passwords
 * (`ALTER USER ... RETAIN CURRENT PASSWORD` / `DISCARD OLD PASSWORD`, listed in the Aurora
 * User Guide's "Password policies" page), MariaDB 10.11 does not (it answers ER_PARSE_ERROR
 * 1064; its equivalent is `IDENTIFIED VIA ... OR ...`, which MySQL does not parse). Two
 * accounts need only statements both engines run the same way, so the tests against the
 * real MariaDB run exactly what runs on Aurora.
 */
export async function rotateSiteCredentials(
  deps: RotationDeps,
  siteId: string,
  secretArn: string,
  mode: RotationMode = 'incident',
  options: {
    /**
     * Serving: when the oldest running task of the site started. Tasks that started before the
     * current version was written may still use the previous account, which a serving
     * rotation would change under them: then the rotation is refused.
     */
    readonly runningSince?: Date;
  } = {},
): Promise<RotationResult> {
  const [described, current, random] = await Promise.all([
    deps.secrets.send(new DescribeSecretCommand({ SecretId: secretArn })),
    deps.secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSCURRENT' })),
    deps.secrets.send(
      new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true, IncludeSpace: false }),
    ),
  ]);
  const currentVersionId = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) =>
    stages.includes('AWSCURRENT'),
  )?.[0];
  if (!currentVersionId || !current.SecretString || !random.RandomPassword) {
    throw new RotationError(`secret ${secretArn} has no AWSCURRENT value to rotate from`);
  }
  const token = deps.newToken();
  const now = JSON.parse(current.SecretString) as Record<string, unknown>;
  if (typeof now.username !== 'string' || now.username === '') {
    throw new RotationError(`secret ${secretArn} names no username to rotate`);
  }
  const account = mode === 'serving' ? otherAccountOf(now.username) : now.username;
  if (mode === 'serving') await refuseIfStillInUse(deps, secretArn, account, current.CreatedDate, options.runningSince);
  const next = { ...now, username: account, password: random.RandomPassword };
  await deps.secrets.send(
    new PutSecretValueCommand({
      SecretId: secretArn,
      ClientRequestToken: token,
      SecretString: JSON.stringify(next),
      VersionStages: ['AWSPENDING'],
    }),
  );
  let applied: Awaited<ReturnType<typeof invokePasswordAction>>;
  try {
    applied = await invokePasswordAction(deps, 'apply-pending-password', siteId, secretArn);
  } catch (error) {
    // The database keeps (or was put back to) the AWSCURRENT password; drop the pending label.
    await dropPendingLabel(deps, secretArn, token);
    throw error instanceof RotationError
      ? error
      : new RotationError(`could not set the new password of ${siteId}: ${(error as Error).message}`);
  }
  try {
    await deps.secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretArn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: currentVersionId,
      }),
    );
  } catch (error) {
    // The database has the new password but the secret still says the old one: put the
    // database back, so what tasks read from the secret keeps working.
    await invokePasswordAction(deps, 'revert-password', siteId, secretArn);
    await dropPendingLabel(deps, secretArn, token);
    throw new RotationError(
      `promoting the new password of ${siteId} failed (${(error as Error).name}); the database was set back to the current password`,
    );
  }
  await dropPendingLabel(deps, secretArn, token);
  return {
    siteId,
    previousVersionId: currentVersionId,
    currentVersionId: token,
    mode,
    account,
    sessionsKilled: applied.sessionsKilled ?? 0,
    sessionsNotKilled: applied.sessionsNotKilled ?? 0,
  };
}
