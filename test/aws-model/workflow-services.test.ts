import { BackupClient, DescribeBackupJobCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { NotFoundException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, type FleetHandles, installAwsModel, seedFleet } from '../support/aws-model';

const sns = new SNSClient({ region: 'eu-west-1' });
const sfn = new SFNClient({ region: 'eu-west-1' });
const cw = new CloudWatchClient({ region: 'eu-west-1' });
const logs = new CloudWatchLogsClient({ region: 'eu-west-1' });
const backup = new BackupClient({ region: 'eu-west-1' });
const lambda = new LambdaClient({ region: 'eu-west-1' });

describe('notification, workflow and record services', () => {
  let aws: AwsModel;
  let fleet: FleetHandles;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off' });
    fleet = seedFleet(aws, { environment: 'test', sites: [{ id: 'acme', cell: 'c1' }] });
  });
  afterEach(() => aws.restore());

  it('SNS records what was published and answers NotFound for an unknown topic', async () => {
    await sns.send(
      new PublishCommand({
        TopicArn: fleet.opsTopicArn,
        Subject: 'Site acme quarantined',
        Message: 'details',
        MessageAttributes: { site: { DataType: 'String', StringValue: 'acme' } },
      }),
    );
    const missing = await sns
      .send(new PublishCommand({ TopicArn: `${fleet.opsTopicArn}-nope`, Message: 'x' }))
      .catch((e: unknown) => e);
    const badSubject = await sns
      .send(new PublishCommand({ TopicArn: fleet.opsTopicArn, Subject: 'two\nlines', Message: 'x' }))
      .catch((e: unknown) => e);
    expect(aws.sns.published(fleet.opsTopicArn)).toEqual([
      expect.objectContaining({ Subject: 'Site acme quarantined', Message: 'details' }),
    ]);
    expect(missing).toBeInstanceOf(NotFoundException);
    expect(badSubject).toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Subject' });
  });

  it('Step Functions: same name and input is idempotent, a different input is ExecutionAlreadyExists', async () => {
    // Prepare
    const seen: string[] = [];
    aws.sfn.onStartExecution((execution, model) => {
      seen.push(execution.name);
      model.succeed(execution.executionArn, { ok: true });
    });
    const start = (input: string) =>
      sfn.send(new StartExecutionCommand({ stateMachineArn: fleet.stateMachineArn, name: 'inc-1', input }));

    // Act
    const first = await start('{"a":1}');
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
    const again = await start('{"a":1}').catch((e: unknown) => e);
    const different = await start('{"a":2}').catch((e: unknown) => e);

    // Assess
    expect(seen).toEqual(['inc-1']);
    expect(described).toMatchObject({ status: 'SUCCEEDED', output: '{"ok":true}' });
    // The first execution has closed, so even the same input is refused now.
    expect(again).toBeInstanceOf(ExecutionAlreadyExists);
    expect(different).toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('Step Functions: a running execution with the same name and input returns the same ARN', async () => {
    const start = () =>
      sfn.send(new StartExecutionCommand({ stateMachineArn: fleet.stateMachineArn, name: 'inc-2', input: '{}' }));
    const a = await start();
    const b = await start();
    expect(b.executionArn).toBe(a.executionArn);
    const token = aws.sfn.issueTaskToken();
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"approved":true}' }));
    const twice = await sfn
      .send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))
      .catch((e: unknown) => e);
    expect(aws.sfn.answers()).toEqual([expect.objectContaining({ outcome: 'success', output: '{"approved":true}' })]);
    expect(twice).toMatchObject({ name: 'TaskTimedOut' });
  });

  it('CloudWatch keeps metric data for the test to read; logs are filterable', async () => {
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Bulkhead',
        MetricData: [
          { MetricName: 'TimeToIsolate', Dimensions: [{ Name: 'Site', Value: 'acme' }], Value: 4.2, Unit: 'Seconds' },
        ],
      }),
    );
    const reserved = await cw
      .send(new PutMetricDataCommand({ Namespace: 'AWS/ECS', MetricData: [{ MetricName: 'x', Value: 1 }] }))
      .catch((e: unknown) => e);
    const site = fleet.sites.acme;
    const filtered = await logs.send(
      new FilterLogEventsCommand({ logGroupName: site?.logGroupName, filterPattern: '"wp-login.php"' }),
    );
    const stream = filtered.events?.[0]?.logStreamName ?? '';
    const tail = await logs.send(
      new GetLogEventsCommand({ logGroupName: site?.logGroupName, logStreamName: stream, limit: 2 }),
    );
    const missing = await logs.send(new FilterLogEventsCommand({ logGroupName: '/nope' })).catch((e: unknown) => e);
    expect(aws.cloudwatch.metrics({ name: 'TimeToIsolate', dimensions: { Site: 'acme' } })).toEqual([
      expect.objectContaining({ Value: 4.2, Unit: 'Seconds' }),
    ]);
    expect(reserved).toMatchObject({ name: 'InvalidParameterValueException', Code: 'InvalidParameterValue' });
    expect(filtered.events).toHaveLength(1);
    expect(tail.events).toHaveLength(2);
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('CloudWatch Logs FilterLogEvents: newest first on request (from 2024 on), the direction kept by the token, pages of at most 1 MB', async () => {
    // Prepare: 30 lines of 100 KB, one a second
    const group = fleet.sites.acme?.logGroupName ?? '';
    const start = aws.clock.now();
    aws.logs.seedEvents(
      group,
      's',
      Array.from({ length: 30 }, (_, i) => ({ timestamp: start + i * 1000, message: `${i} ${'x'.repeat(100_000)}` })),
    );
    const read = async (startFromHead: boolean) => {
      const pages: number[][] = [];
      let nextToken: string | undefined;
      do {
        const page = await logs.send(
          new FilterLogEventsCommand({
            logGroupName: group,
            logStreamNames: ['s'],
            startTime: start,
            startFromHead,
            nextToken,
          }),
        );
        pages.push((page.events ?? []).map((e) => ((e.timestamp ?? 0) - start) / 1000));
        nextToken = page.nextToken;
      } while (nextToken);
      return pages;
    };

    // Act
    const oldestFirst = await read(true);
    const newestFirst = await read(false);
    const tooEarly = await logs
      .send(
        new FilterLogEventsCommand({ logGroupName: group, startTime: Date.UTC(2023, 11, 31), startFromHead: false }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(oldestFirst.map((p) => p.length)).toEqual([10, 10, 10]); // 10 x (100 KB + 26 B) fit in 1 MB
    expect(oldestFirst.flat()).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(newestFirst.flat()).toEqual(Array.from({ length: 30 }, (_, i) => 29 - i));
    expect(tooEarly).toMatchObject({ name: 'InvalidParameterException' });
  });

  it('Backup jobs progress on the virtual clock and are idempotent by token', async () => {
    const start = () =>
      backup.send(
        new StartBackupJobCommand({
          BackupVaultName: fleet.backupVaultName,
          ResourceArn: fleet.fileSystemArn,
          IamRoleArn: 'arn:aws:iam::123456789012:role/backup',
          IdempotencyToken: 'inc-1',
        }),
      );
    const job = await start();
    const same = await start();
    const created = await backup.send(new DescribeBackupJobCommand({ BackupJobId: job.BackupJobId }));
    aws.advance(10 * 60_000);
    const done = await backup.send(new DescribeBackupJobCommand({ BackupJobId: job.BackupJobId }));
    expect(same.BackupJobId).toBe(job.BackupJobId);
    expect(created.State).toBe('CREATED');
    expect(done).toMatchObject({ State: 'COMPLETED', ResourceType: 'EFS' });
  });

  it('Lambda invokes registered functions and reports their errors as Lambda does', async () => {
    aws.lambda.register('status', (event) => ({ echo: event }));
    aws.lambda.register('broken', () => {
      throw new TypeError('boom');
    });
    const ok = await lambda.send(
      new InvokeCommand({ FunctionName: 'status', Payload: Buffer.from('{"site":"acme"}') }),
    );
    const failed = await lambda.send(new InvokeCommand({ FunctionName: 'broken', Payload: Buffer.from('{}') }));
    const missing = await lambda.send(new InvokeCommand({ FunctionName: 'nope' })).catch((e: unknown) => e);
    expect(JSON.parse(Buffer.from(ok.Payload ?? []).toString())).toEqual({ echo: { site: 'acme' } });
    expect(failed.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(failed.Payload ?? []).toString())).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'boom',
    });
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
  });

  it('Lambda: a synchronous answer or request over 6 MB is refused as Lambda refuses it', async () => {
    // Prepare
    aws.lambda.register('big', (event) => ({ text: 'x'.repeat((event as { size: number }).size) }));

    // Act
    const under = await lambda.send(
      new InvokeCommand({ FunctionName: 'big', Payload: Buffer.from('{"size":5000000}') }),
    );
    const over = await lambda.send(
      new InvokeCommand({ FunctionName: 'big', Payload: Buffer.from('{"size":7000000}') }),
    );
    const request = await lambda
      .send(
        new InvokeCommand({
          FunctionName: 'big',
          Payload: Buffer.from(JSON.stringify({ size: 1, pad: 'y'.repeat(7_000_000) })),
        }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(under.FunctionError).toBeUndefined();
    expect(over.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(over.Payload ?? []).toString())).toMatchObject({
      errorType: 'Function.ResponseSizeTooLarge',
    });
    expect(request).toMatchObject({ name: 'RequestTooLargeException', $metadata: { httpStatusCode: 413 } });
  });
});
