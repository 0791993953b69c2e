import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, installAwsModel, seedFleet, type SiteHandles } from '../support/aws-model';

const sm = new SecretsManagerClient({ region: 'eu-west-1' });
const token = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('Secrets Manager staging labels', () => {
  let aws: AwsModel;
  let site: SiteHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    site = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] }).sites.acme as SiteHandles;
  });
  afterEach(() => aws.restore());

  it('rotates: AWSPENDING, then moving AWSCURRENT moves AWSPREVIOUS to the old version', async () => {
    // Prepare
    const first = await sm.send(new GetSecretValueCommand({ SecretId: site.secretArn }));

    // Act
    const pending = await sm.send(
      new PutSecretValueCommand({
        SecretId: site.secretArn,
        ClientRequestToken: token(1),
        SecretString: '{"password":"new"}',
        VersionStages: ['AWSPENDING'],
      }),
    );
    const pendingValue = await sm.send(
      new GetSecretValueCommand({ SecretId: site.secretName, VersionStage: 'AWSPENDING' }),
    );
    const refused = await sm
      .send(
        new UpdateSecretVersionStageCommand({
          SecretId: site.secretArn,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token(1),
        }),
      )
      .catch((e: unknown) => e);
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: site.secretArn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token(1),
        RemoveFromVersionId: first.VersionId,
      }),
    );
    const described = await sm.send(new DescribeSecretCommand({ SecretId: site.secretArn }));

    // Assess
    expect(pending.VersionStages).toEqual(['AWSPENDING']);
    expect(pendingValue.SecretString).toBe('{"password":"new"}');
    expect(refused).toMatchObject({ name: 'InvalidParameterException' });
    expect((refused as Error).message).toContain('RemoveFromVersionId');
    expect(described.VersionIdsToStages).toEqual({
      [first.VersionId ?? '']: ['AWSPREVIOUS'],
      [token(1)]: ['AWSPENDING', 'AWSCURRENT'],
    });
    const current = await sm.send(new GetSecretValueCommand({ SecretId: site.secretArn }));
    expect(current.VersionId).toBe(token(1));
  });

  it('treats a repeated ClientRequestToken as the same version, and a changed value under it as an error', async () => {
    // Act
    const a = await sm.send(
      new PutSecretValueCommand({ SecretId: site.secretArn, ClientRequestToken: token(2), SecretString: 'x' }),
    );
    const b = await sm.send(
      new PutSecretValueCommand({ SecretId: site.secretArn, ClientRequestToken: token(2), SecretString: 'x' }),
    );
    const c = await sm
      .send(new PutSecretValueCommand({ SecretId: site.secretArn, ClientRequestToken: token(2), SecretString: 'y' }))
      .catch((e: unknown) => e);

    // Assess
    expect(b.VersionId).toBe(a.VersionId);
    expect(Object.keys(aws.secretsManager.versionStages(site.secretArn))).toHaveLength(2);
    expect(c).toMatchObject({ name: 'ResourceExistsException' });
  });

  it('answers ResourceNotFoundException for a missing secret or label', async () => {
    const missing = await sm.send(new GetSecretValueCommand({ SecretId: 'nope' })).catch((e: unknown) => e);
    const noPending = await sm
      .send(new GetSecretValueCommand({ SecretId: site.secretArn, VersionStage: 'AWSPENDING' }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(noPending).toMatchObject({
      name: 'ResourceNotFoundException',
      message: expect.stringContaining('AWSPENDING'),
    });
  });

  it('generates passwords honouring the exclusions', async () => {
    const out = await sm.send(
      new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true, ExcludeCharacters: 'abc' }),
    );
    expect(out.RandomPassword).toHaveLength(40);
    expect(out.RandomPassword).toMatch(/^[A-Za-z0-9]+$/);
    expect(out.RandomPassword).not.toMatch(/[abc]/);
  });
});
