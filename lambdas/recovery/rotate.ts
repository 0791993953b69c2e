import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';

export interface RotationDeps {
  readonly secrets: SecretsManagerClient;
  readonly lambda: LambdaClient;
  /** The database-user provider function (the only one that reaches the database). */
  readonly databaseUserFunction: string;
  readonly newToken: () => string;
}

export interface RotationResult {
  readonly siteId: string;
  readonly previousVersionId: string;
  readonly currentVersionId: string;
}

/** Rotation stopped; the message says which side holds which password (always a consistent pair). */
export class RotationError extends Error {
  override readonly name = 'RotationError';
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
  return JSON.parse(payload) as { loginVerified: boolean };
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
 * Rotates a site's database password the Secrets Manager way: a new AWSPENDING version,
 * ALTER USER to it (through the database-user provider, which proves the new login),
 * then AWSCURRENT moves to it, so the old password stops working. At every failure the
 * pair stays consistent: before the database changed, AWSCURRENT still holds the working
 * password; if the database changed but promotion failed, the database is set back.
 * Nothing is deleted: the old version stays as AWSPREVIOUS.
 */
export async function rotateSiteCredentials(
  deps: RotationDeps,
  siteId: string,
  secretArn: string,
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
  const next = { ...(JSON.parse(current.SecretString) as Record<string, unknown>), password: random.RandomPassword };
  await deps.secrets.send(
    new PutSecretValueCommand({
      SecretId: secretArn,
      ClientRequestToken: token,
      SecretString: JSON.stringify(next),
      VersionStages: ['AWSPENDING'],
    }),
  );
  try {
    await invokePasswordAction(deps, 'apply-pending-password', siteId, secretArn);
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
    throw new RotationError(
      `promoting the new password of ${siteId} failed (${(error as Error).name}); the database was set back to the current password`,
    );
  }
  await dropPendingLabel(deps, secretArn, token);
  return { siteId, previousVersionId: currentVersionId, currentVersionId: token };
}
