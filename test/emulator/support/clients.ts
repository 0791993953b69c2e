import { BackupClient } from '@aws-sdk/client-backup';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';

/**
 * SDK clients that talk to moto as one account. moto keeps every account apart and picks the
 * account of a request from its `x-moto-account-id` header (moto/core/responses.py,
 * `get_current_account`), so each test world lives in an account of its own and test files
 * can share one server without resetting it under each other.
 */
export interface MotoClients {
  readonly account: string;
  readonly region: string;
  readonly endpoint: string;
  readonly ec2: EC2Client;
  readonly ecs: ECSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly iam: IAMClient;
  readonly ssm: SSMClient;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly secrets: SecretsManagerClient;
  readonly logs: CloudWatchLogsClient;
  readonly backup: BackupClient;
}

/** Credentials moto accepts (it checks no signature); the account comes from the header. */
const TEST_CREDENTIALS = { accessKeyId: 'AKIAEMULATORTESTS000', secretAccessKey: 'emulator-tests-secret' };

interface WithMiddleware {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { request: { headers?: Record<string, string> } }) => Promise<unknown>,
      ) => (args: { request: { headers?: Record<string, string> } }) => Promise<unknown>,
      options: { step: 'build'; name: string },
    ): void;
  };
}

function inAccount<T>(client: T, account: string): T {
  (client as unknown as WithMiddleware).middlewareStack.add(
    (next) => async (args) => {
      if (args.request.headers) args.request.headers['x-moto-account-id'] = account;
      return next(args);
    },
    { step: 'build', name: 'motoAccount' },
  );
  return client;
}

export function motoClients(endpoint: string, account: string, region: string): MotoClients {
  const config = { endpoint, region, credentials: TEST_CREDENTIALS, maxAttempts: 2 };
  return {
    account,
    region,
    endpoint,
    ec2: inAccount(new EC2Client(config), account),
    ecs: inAccount(new ECSClient(config), account),
    elbv2: inAccount(new ElasticLoadBalancingV2Client(config), account),
    iam: inAccount(new IAMClient(config), account),
    ssm: inAccount(new SSMClient(config), account),
    dynamodb: inAccount(new DynamoDBClient(config), account),
    sns: inAccount(new SNSClient(config), account),
    s3: inAccount(new S3Client({ ...config, forcePathStyle: true }), account),
    sfn: inAccount(new SFNClient(config), account),
    secrets: inAccount(new SecretsManagerClient(config), account),
    logs: inAccount(new CloudWatchLogsClient(config), account),
    backup: inAccount(new BackupClient(config), account),
  };
}

/**
 * Temporary credentials of a role, from moto's STS (AssumeRole, Query API). moto keeps the key
 * in the role's account, so code signing with it (the bundled Lambda functions) works in that
 * account: the function runs as its own role, as Lambda runs it.
 */
export async function assumeRole(
  endpoint: string,
  roleArn: string,
  sessionName: string,
): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }> {
  const body = new URLSearchParams({
    Action: 'AssumeRole',
    Version: '2011-06-15',
    RoleArn: roleArn,
    RoleSessionName: sessionName,
  });
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20250101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const xml = await response.text();
  const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(xml)?.[1];
  const accessKeyId = field('AccessKeyId');
  const secretAccessKey = field('SecretAccessKey');
  const sessionToken = field('SessionToken');
  if (!response.ok || !accessKeyId || !secretAccessKey || !sessionToken) {
    throw new Error(`moto STS AssumeRole ${roleArn} failed (${response.status}): ${xml.slice(0, 300)}`);
  }
  return { accessKeyId, secretAccessKey, sessionToken };
}

/**
 * An ACM certificate in moto (JSON API; the repository has no ACM client). A cell's default
 * certificate is something the fleet file names and the operator made beforehand; moto checks
 * a listener's certificate exists, so the emulator world requests one in its place.
 */
export async function requestCertificate(clients: MotoClients, domainName: string): Promise<string> {
  const response = await fetch(clients.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'CertificateManager.RequestCertificate',
      'x-moto-account-id': clients.account,
      authorization: `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20250101/${clients.region}/acm/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ DomainName: domainName, ValidationMethod: 'DNS' }),
  });
  const answer = (await response.json()) as { CertificateArn?: string };
  if (!response.ok || !answer.CertificateArn) {
    throw new Error(`moto ACM RequestCertificate ${domainName} failed (${response.status}): ${JSON.stringify(answer)}`);
  }
  return answer.CertificateArn;
}
