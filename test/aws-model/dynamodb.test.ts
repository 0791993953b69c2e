import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AwsModel, installAwsModel } from '../support/aws-model';

const ddb = new DynamoDBClient({ region: 'eu-west-1' });
const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
const TABLE = 'incidents';

function createTable(aws: AwsModel): void {
  aws.dynamodb.createTable({
    TableName: TABLE,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'site', AttributeType: 'S' },
      { AttributeName: 'openedAt', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'bySite',
        KeySchema: [
          { AttributeName: 'site', KeyType: 'HASH' },
          { AttributeName: 'openedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  });
}

describe('DynamoDB conditional writes and expressions', () => {
  let aws: AwsModel;

  beforeEach(() => {
    aws = installAwsModel({ retries: 'off', latencyMs: 5 });
    createTable(aws);
  });
  afterEach(() => aws.restore());

  it('lets exactly one of two concurrent conditional PutItems win', async () => {
    // Prepare
    const put = (finding: string) =>
      ddb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'SITE#acme' }, sk: { S: 'OPEN' }, finding: { S: finding } },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );

    // Act
    const results = await Promise.allSettled([put('f-1'), put('f-2')]);

    // Assess
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(ConditionalCheckFailedException);
    const stored = await ddb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'SITE#acme' }, sk: { S: 'OPEN' } } }),
    );
    expect((lost[0]?.reason as ConditionalCheckFailedException).Item).toEqual(stored.Item);
  });

  it('evaluates update expressions: SET arithmetic, if_not_exists, list_append, REMOVE, ADD', async () => {
    // Prepare
    await doc.send(
      new PutCommand({ TableName: TABLE, Item: { pk: 'INC#1', sk: 'META', status: 'OPEN', count: 1, notes: 'x' } }),
    );

    // Act
    const out = await doc.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk: 'INC#1', sk: 'META' },
        UpdateExpression:
          'SET #count = #count + :one, firstSeen = if_not_exists(firstSeen, :now), timeline = list_append(if_not_exists(timeline, :empty), :event) REMOVE notes ADD tags :tags',
        ConditionExpression: '#status = :open AND NOT attribute_exists(closedAt)',
        ExpressionAttributeNames: { '#count': 'count', '#status': 'status' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':now': 1000,
          ':empty': [],
          ':event': [{ at: 1000, what: 'detected' }],
          ':open': 'OPEN',
          ':tags': new Set(['guardduty']),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );

    // Assess
    expect(out.Attributes).toEqual({
      pk: 'INC#1',
      sk: 'META',
      status: 'OPEN',
      count: 2,
      firstSeen: 1000,
      timeline: [{ at: 1000, what: 'detected' }],
      tags: new Set(['guardduty']),
    });
  });

  it('rejects reserved words, unused placeholders and syntax errors with ValidationException', async () => {
    const key = { pk: { S: 'a' }, sk: { S: 'b' } };
    const reserved = await ddb
      .send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key,
          UpdateExpression: 'SET status = :s',
          ExpressionAttributeValues: { ':s': { S: 'x' } },
        }),
      )
      .catch((e: unknown) => e);
    const unused = await ddb
      .send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key,
          UpdateExpression: 'SET a = :a',
          ExpressionAttributeValues: { ':a': { S: 'x' }, ':b': { S: 'y' } },
        }),
      )
      .catch((e: unknown) => e);
    const syntax = await ddb
      .send(new PutItemCommand({ TableName: TABLE, Item: key, ConditionExpression: 'attribute_not_exists(pk) AND' }))
      .catch((e: unknown) => e);
    expect(reserved).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('reserved keyword: status'),
    });
    expect(unused).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('unused in expressions: keys: {:b}'),
    });
    expect(syntax).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Syntax error') });
  });

  it('treats a missing attribute as unequal: <> holds, = and < do not', async () => {
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'p', sk: 's' } }));
    const update = (condition: string) =>
      doc
        .send(
          new UpdateCommand({
            TableName: TABLE,
            Key: { pk: 'p', sk: 's' },
            UpdateExpression: 'SET v = :v',
            ConditionExpression: condition,
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: { ':v': 'x' },
          }),
        )
        .then(
          () => 'ok',
          (e: Error) => e.name,
        );
    expect(await update('#s <> :v')).toBe('ok');
    expect(await update('#s = :v')).toBe('ConditionalCheckFailedException');
    expect(await update('#s < :v')).toBe('ConditionalCheckFailedException');
  });

  it('cancels a whole transaction with a reason per item when one condition fails', async () => {
    // Prepare
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'SITE#acme', sk: 'LOCK', incident: 'i-1' } }));

    // Act
    const error = await ddb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { pk: { S: 'INC#2' }, sk: { S: 'META' } } } },
            {
              Put: {
                TableName: TABLE,
                Item: { pk: { S: 'SITE#acme' }, sk: { S: 'LOCK' }, incident: { S: 'i-2' } },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as Error).message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
    );
    expect((error as TransactionCanceledException).CancellationReasons).toEqual([
      { Code: 'None' },
      {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        Item: { pk: { S: 'SITE#acme' }, sk: { S: 'LOCK' }, incident: { S: 'i-1' } },
      },
    ]);
    expect(
      (await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'INC#2', sk: 'META' } }))).Item,
    ).toBeUndefined();
  });

  it('queries a GSI with = on the partition key and BETWEEN / begins_with on the sort key', async () => {
    // Prepare
    for (const [i, site] of ['acme', 'acme', 'acme', 'other'].entries()) {
      await doc.send(
        new PutCommand({ TableName: TABLE, Item: { pk: `INC#${i}`, sk: 'META', site, openedAt: 100 + i * 10 } }),
      );
    }
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'INC#9', sk: 'META' } }));
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'SITE#acme', sk: 'TIMELINE#002' } }));
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'SITE#acme', sk: 'TIMELINE#001' } }));
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'SITE#acme', sk: 'OTHER' } }));

    // Act
    const between = await doc.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'bySite',
        KeyConditionExpression: 'site = :s AND openedAt BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':s': 'acme', ':a': 105, ':b': 130 },
        ScanIndexForward: false,
      }),
    );
    const prefix = await doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :t)',
        ExpressionAttributeValues: { ':p': 'SITE#acme', ':t': 'TIMELINE#' },
        Limit: 1,
      }),
    );

    // Assess
    expect(between.Items?.map((i) => i.openedAt)).toEqual([120, 110]);
    expect(prefix.Items?.map((i) => i.sk)).toEqual(['TIMELINE#001']);
    expect(prefix.LastEvaluatedKey).toEqual({ pk: 'SITE#acme', sk: 'TIMELINE#001' });
  });
});
