import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet, type SiteHandles } from '../support/aws-model';

const iam = new IAMClient({ region: 'eu-west-1' });
const s3 = new S3Client({ region: 'eu-west-1' });

describe('IAM role inline policies', () => {
  let aws: AwsModel;
  let site: SiteHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    site = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] }).sites.acme as SiteHandles;
  });
  afterEach(() => aws.restore());

  it('adds a session-revocation deny and returns it URL-encoded, as IAM does', async () => {
    // Prepare
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': '2025-01-06T09:00:00Z' } },
        },
      ],
    };

    // Act
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: site.taskRoleName,
        PolicyName: 'revoke-sessions',
        PolicyDocument: JSON.stringify(policy),
      }),
    );
    const got = await iam.send(
      new GetRolePolicyCommand({ RoleName: site.taskRoleName, PolicyName: 'revoke-sessions' }),
    );
    const names = await iam.send(new ListRolePoliciesCommand({ RoleName: site.taskRoleName }));
    await iam.send(new DeleteRolePolicyCommand({ RoleName: site.taskRoleName, PolicyName: 'revoke-sessions' }));
    const gone = await iam
      .send(new GetRolePolicyCommand({ RoleName: site.taskRoleName, PolicyName: 'revoke-sessions' }))
      .catch((e: unknown) => e);

    // Assess
    expect(got.PolicyDocument).toMatch(/^%7B%22Version%22/);
    expect(JSON.parse(decodeURIComponent(got.PolicyDocument ?? ''))).toEqual(policy);
    expect(names.PolicyNames).toEqual(['revoke-sessions']);
    expect(gone).toBeInstanceOf(NoSuchEntityException);
    expect(gone).toMatchObject({
      name: 'NoSuchEntityException',
      Code: 'NoSuchEntity',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('reads role tags and refuses malformed policies and unknown roles', async () => {
    const tags = await iam.send(new ListRoleTagsCommand({ RoleName: site.taskRoleName }));
    const role = await iam.send(new GetRoleCommand({ RoleName: site.taskRoleName }));
    const malformed = await iam
      .send(new PutRolePolicyCommand({ RoleName: site.taskRoleName, PolicyName: 'p', PolicyDocument: '{not json' }))
      .catch((e: unknown) => e);
    const unknown = await iam.send(new GetRoleCommand({ RoleName: 'nope' })).catch((e: unknown) => e);
    expect(tags.Tags).toEqual(expect.arrayContaining([{ Key: 'bulkhead:component', Value: 'task-role' }]));
    expect(role.Role?.Arn).toBe(site.taskRoleArn);
    expect(malformed).toMatchObject({ name: 'MalformedPolicyDocumentException' });
    expect(unknown).toMatchObject({
      name: 'NoSuchEntityException',
      message: 'The role with name nope cannot be found.',
    });
  });
});

describe('S3 evidence bucket with Object Lock', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    fleet = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] });
  });
  afterEach(() => aws.restore());

  it('stores an object with a verified SHA-256 checksum and reads it back', async () => {
    // Prepare
    const body = JSON.stringify({ finding: 'x' });
    const checksum = createHash('sha256').update(body).digest('base64');

    // Act
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: fleet.evidenceBucket,
        Key: 'inc-1/finding.json',
        Body: body,
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: checksum,
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: fleet.evidenceBucket, Key: 'inc-1/finding.json' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: fleet.evidenceBucket, Key: 'inc-1/finding.json' }));
    const list = await s3.send(new ListObjectsV2Command({ Bucket: fleet.evidenceBucket, Prefix: 'inc-1/' }));
    const bad = await s3
      .send(new PutObjectCommand({ Bucket: fleet.evidenceBucket, Key: 'k', Body: 'x', ChecksumSHA256: checksum }))
      .catch((e: unknown) => e);

    // Assess
    expect(put.VersionId).toBeDefined();
    expect(await got.Body?.transformToString()).toBe(body);
    expect(head).toMatchObject({ ContentLength: body.length, ObjectLockMode: 'COMPLIANCE' });
    expect(list.Contents?.map((c) => c.Key)).toEqual(['inc-1/finding.json']);
    expect(bad).toMatchObject({ name: 'BadDigest' });
  });

  it('an upload that gets an Object Lock retention needs Content-MD5 or a checksum algorithm (InvalidRequest); a checksum of another algorithm is BadDigest', async () => {
    // Prepare
    const body = '{}';
    const sha256 = createHash('sha256').update(body).digest('base64');
    const md5 = createHash('md5').update(body).digest('base64');

    // Act
    const bare = await s3
      .send(new PutObjectCommand({ Bucket: fleet.evidenceBucket, Key: 'a', Body: body, ChecksumSHA256: sha256 }))
      .catch((e: unknown) => e);
    const withMd5 = await s3.send(
      new PutObjectCommand({ Bucket: fleet.evidenceBucket, Key: 'b', Body: body, ContentMD5: md5 }),
    );
    const mismatched = await s3
      .send(
        new PutObjectCommand({
          Bucket: fleet.evidenceBucket,
          Key: 'c',
          Body: body,
          ChecksumAlgorithm: 'CRC32',
          ChecksumSHA256: sha256,
        }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(bare).toMatchObject({ name: 'InvalidRequest', $metadata: { httpStatusCode: 400 } });
    expect(withMd5.VersionId).toBeDefined();
    expect(mismatched).toMatchObject({ name: 'BadDigest' });
    expect(aws.s3.dump(fleet.evidenceBucket).map((o) => o.key)).toEqual(['b']);
  });

  it('refuses to delete a locked version (AccessDenied); a plain delete only adds a delete marker', async () => {
    // Prepare
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: fleet.evidenceBucket,
        Key: 'inc-1/task.json',
        Body: '{}',
        ChecksumAlgorithm: 'SHA256',
      }),
    );

    // Act
    const denied = await s3
      .send(new DeleteObjectCommand({ Bucket: fleet.evidenceBucket, Key: 'inc-1/task.json', VersionId: put.VersionId }))
      .catch((e: unknown) => e);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: fleet.evidenceBucket, Key: 'inc-1/task.json' }));
    const missing = await s3
      .send(new GetObjectCommand({ Bucket: fleet.evidenceBucket, Key: 'inc-1/task.json' }))
      .catch((e: unknown) => e);
    const stillThere = await s3.send(
      new GetObjectCommand({ Bucket: fleet.evidenceBucket, Key: 'inc-1/task.json', VersionId: put.VersionId }),
    );

    // Assess
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(marker.DeleteMarker).toBe(true);
    expect(missing).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    expect(await stillThere.Body?.transformToString()).toBe('{}');
  });
});
