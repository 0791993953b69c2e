import { createHash } from 'node:crypto';
import type {
  AttributeDefinition,
  AttributeValue,
  BatchGetItemCommandInput,
  BatchGetItemCommandOutput,
  BatchWriteItemCommandInput,
  BatchWriteItemCommandOutput,
  CancellationReason,
  CreateTableCommandInput,
  CreateTableCommandOutput,
  DeleteItemCommandInput,
  DeleteItemCommandOutput,
  DescribeTableCommandInput,
  DescribeTableCommandOutput,
  GetItemCommandInput,
  GetItemCommandOutput,
  GlobalSecondaryIndex,
  KeySchemaElement,
  PutItemCommandInput,
  PutItemCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  TableDescription,
  TransactGetItemsCommandInput,
  TransactGetItemsCommandOutput,
  TransactWriteItemsCommandInput,
  TransactWriteItemsCommandOutput,
  UpdateItemCommandInput,
  UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { type Handler, type Out, ServiceModel } from '../service-model';
import { compareValues, type Item, itemSize, keyString, typeOf, validateValue } from './attribute-values';
import { applyUpdate, checkOverlaps, evaluateCondition, project, touchedAttributes } from './evaluate';
import {
  type Condition,
  type ExpressionContext,
  ExpressionError,
  newUsage,
  type Path,
  parseCondition,
  parseProjection,
  parseUpdate,
  unusedPlaceholders,
} from './expressions';

interface KeyDef {
  partition: string;
  sort?: string;
}

interface IndexRecord {
  IndexName: string;
  key: KeyDef;
  KeySchema: KeySchemaElement[];
  projectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  nonKeyAttributes: string[];
}

interface TableRecord {
  TableName: string;
  TableArn: string;
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  key: KeyDef;
  indexes: IndexRecord[];
  CreationDateTime: number;
  BillingMode: string;
  items: Record<string, Item>;
}

interface DynamoDbState {
  tables: Record<string, TableRecord>;
  /** TransactWriteItems ClientRequestTokens seen in the last 10 minutes. */
  transactionTokens: Record<string, { hash: string; at: number }>;
}

/** A planned single-item write, checked before anything is applied. */
interface WritePlan {
  table: TableRecord;
  keyStr: string;
  old: Item | undefined;
  /** The item after the write; null deletes; undefined changes nothing (ConditionCheck). */
  next: Item | null | undefined;
  conditionOk: boolean;
  returnOldOnFailure: boolean;
}

const MAX_ITEM_BYTES = 400 * 1024;

/**
 * DynamoDB: tables with a partition key, optional sort key and global secondary indexes;
 * items in the low-level AttributeValue form; condition, update, filter, key-condition and
 * projection expressions parsed by a small parser (expressions.ts) and evaluated
 * (evaluate.ts); single-item writes are atomic and conditional; TransactWriteItems is
 * all-or-nothing with CancellationReasons.
 */
export class DynamoDbModel extends ServiceModel<DynamoDbState> {
  readonly service = 'DynamoDB' as const;

  protected initialState(): DynamoDbState {
    return { tables: {}, transactionTokens: {} };
  }

  handlers(): Record<string, Handler> {
    const g =
      <I, O>(fn: (input: I) => O) =>
      (input: I) =>
        this.guard(() => fn.call(this, input));
    return {
      CreateTable: g(this.createTableCommand),
      DescribeTable: g(this.describeTable),
      GetItem: g(this.getItem),
      PutItem: g(this.putItem),
      UpdateItem: g(this.updateItem),
      DeleteItem: g(this.deleteItem),
      Query: g(this.query),
      Scan: g(this.scan),
      TransactWriteItems: g(this.transactWriteItems),
      TransactGetItems: g(this.transactGetItems),
      BatchGetItem: g(this.batchGetItem),
      BatchWriteItem: g(this.batchWriteItem),
    };
  }

  /** Creates a table (what CreateTable does; the table is ACTIVE at once). */
  createTable(input: CreateTableCommandInput): TableDescription {
    return this.guard(() => this.createTableCommand(input)).TableDescription as TableDescription;
  }

  /**
   * Puts items (low-level AttributeValue form) as PutItem would, validated, but without the
   * call machinery: seeding many or large items stays fast (no call log, no state snapshot
   * per write).
   */
  seedItems(tableName: string, items: readonly Item[]): void {
    this.guard(() => {
      for (const item of items) this.commit(this.planPut({ TableName: tableName, Item: item }));
    });
  }

  /** The items of a table in storage order (copies). */
  items(tableName: string): Item[] {
    return Object.values(this.table(tableName).items).map((i) => structuredClone(i));
  }

  // ---- helpers ------------------------------------------------------------------

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ExpressionError) this.fail('ValidationException', e.message);
      throw e;
    }
  }

  private validation(message: string): never {
    return this.fail('ValidationException', message);
  }

  private table(name: string | undefined): TableRecord {
    const table = this.state.tables[name ?? ''];
    if (!table) return this.fail('ResourceNotFoundException', 'Requested resource not found');
    return table;
  }

  private context(input: {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  }): ExpressionContext {
    if (input.ExpressionAttributeValues && Object.keys(input.ExpressionAttributeValues).length === 0) {
      this.validation('ExpressionAttributeValues must not be empty');
    }
    if (input.ExpressionAttributeNames && Object.keys(input.ExpressionAttributeNames).length === 0) {
      this.validation('ExpressionAttributeNames must not be empty');
    }
    for (const [name, value] of Object.entries(input.ExpressionAttributeValues ?? {})) {
      const error = validateValue(value);
      if (error) this.validation(`ExpressionAttributeValues contains invalid value: ${error} for key ${name}`);
    }
    return { names: input.ExpressionAttributeNames, values: input.ExpressionAttributeValues, usage: newUsage() };
  }

  private checkUnused(ctx: ExpressionContext): void {
    const message = unusedPlaceholders(ctx);
    if (message) this.validation(message);
  }

  private attributeType(table: TableRecord, name: string): string | undefined {
    return table.AttributeDefinitions.find((a) => a.AttributeName === name)?.AttributeType;
  }

  /** Validates a Key parameter against the table's key schema; returns its index key. */
  private keyOf(table: TableRecord, key: Item | undefined): string {
    const names = [table.key.partition, ...(table.key.sort ? [table.key.sort] : [])];
    const given = Object.keys(key ?? {});
    if (given.length !== names.length || !names.every((n) => given.includes(n))) {
      this.validation('The provided key element does not match the schema');
    }
    for (const name of names) {
      const value = key?.[name] as AttributeValue;
      const t = typeOf(value);
      if (typeof t === 'object' || t !== this.attributeType(table, name)) {
        this.validation('The provided key element does not match the schema');
      }
      if ((t === 'S' && value.S === '') || (t === 'B' && value.B?.length === 0)) {
        this.validation(
          `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${t === 'S' ? 'string' : 'binary'} value. Key: ${name}`,
        );
      }
    }
    return this.keyStringOf(table, key ?? {});
  }

  private keyStringOf(table: TableRecord, item: Item): string {
    return JSON.stringify([
      keyString(item[table.key.partition]),
      table.key.sort ? keyString(item[table.key.sort]) : '',
    ]);
  }

  /** Validates a whole item for PutItem: values, key attributes, index key types, size. */
  private validateItem(table: TableRecord, item: Item): void {
    for (const value of Object.values(item)) {
      const error = validateValue(value);
      if (error) this.validation(error);
    }
    for (const name of [table.key.partition, ...(table.key.sort ? [table.key.sort] : [])]) {
      const value = item[name];
      if (!value) this.validation(`One or more parameter values were invalid: Missing the key ${name} in the item`);
      const t = typeOf(value);
      const expected = this.attributeType(table, name);
      if (t !== expected) {
        this.validation(
          `One or more parameter values were invalid: Type mismatch for key ${name} expected: ${expected} actual: ${typeof t === 'object' ? 'NULL' : t}`,
        );
      }
      if ((t === 'S' && value.S === '') || (t === 'B' && value.B?.length === 0)) {
        this.validation(
          `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${t === 'S' ? 'string' : 'binary'} value. Key: ${name}`,
        );
      }
    }
    for (const index of table.indexes) {
      for (const name of [index.key.partition, ...(index.key.sort ? [index.key.sort] : [])]) {
        const value = item[name];
        if (!value) continue;
        const t = typeOf(value);
        const expected = this.attributeType(table, name);
        if (t !== expected) {
          this.validation(
            `One or more parameter values were invalid: Type mismatch for Index Key ${name} Expected: ${expected} Actual: ${typeof t === 'object' ? 'NULL' : t} IndexName: ${index.IndexName}`,
          );
        }
      }
    }
    if (itemSize(item) > MAX_ITEM_BYTES) this.validation('Item size has exceeded the maximum allowed size');
  }

  private parseConditionOf(
    expression: string | undefined,
    label: string,
    ctx: ExpressionContext,
  ): Condition | undefined {
    return expression === undefined ? undefined : parseCondition(expression, label, ctx);
  }

  private conditionalCheckFailed(plan: WritePlan): never {
    return this.fail('ConditionalCheckFailedException', 'The conditional request failed', {
      fields: plan.returnOldOnFailure && plan.old ? { Item: structuredClone(plan.old) } : undefined,
    });
  }

  // ---- planning writes ---------------------------------------------------------------

  private planPut(input: PutItemCommandInput): WritePlan {
    const table = this.table(input.TableName);
    const item = input.Item ?? {};
    this.validateItem(table, item);
    const ctx = this.context(input);
    const condition = this.parseConditionOf(input.ConditionExpression, 'ConditionExpression', ctx);
    this.checkUnused(ctx);
    const keyStr = this.keyStringOf(table, item);
    const old = table.items[keyStr];
    const values = input.ExpressionAttributeValues ?? {};
    return {
      table,
      keyStr,
      old,
      next: structuredClone(item),
      conditionOk: condition ? evaluateCondition(old ?? {}, condition, values) : true,
      returnOldOnFailure: input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD',
    };
  }

  private planUpdate(input: UpdateItemCommandInput): WritePlan & { touched: string[] } {
    const table = this.table(input.TableName);
    const keyStr = this.keyOf(table, input.Key);
    if (input.AttributeUpdates)
      this.validation('AttributeUpdates is a legacy parameter the model does not support; use UpdateExpression');
    const ctx = this.context(input);
    const actions = input.UpdateExpression ? parseUpdate(input.UpdateExpression, ctx) : [];
    const condition = this.parseConditionOf(input.ConditionExpression, 'ConditionExpression', ctx);
    this.checkUnused(ctx);
    checkOverlaps(actions);
    for (const action of actions) {
      const top = action.path.segments[0];
      if (top?.kind === 'name' && (top.name === table.key.partition || top.name === table.key.sort)) {
        this.validation(
          `One or more parameter values were invalid: Cannot update attribute ${top.name}. This attribute is part of the key`,
        );
      }
    }
    const old = table.items[keyStr];
    const values = input.ExpressionAttributeValues ?? {};
    const conditionOk = condition ? evaluateCondition(old ?? {}, condition, values) : true;
    let next: Item | undefined;
    if (conditionOk) {
      next = applyUpdate(old ?? structuredClone(input.Key ?? {}), actions, values);
      this.validateItem(table, next);
    }
    return {
      table,
      keyStr,
      old,
      next,
      conditionOk,
      returnOldOnFailure: input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD',
      touched: touchedAttributes(actions),
    };
  }

  private planDelete(input: DeleteItemCommandInput): WritePlan {
    const table = this.table(input.TableName);
    const keyStr = this.keyOf(table, input.Key);
    const ctx = this.context(input);
    const condition = this.parseConditionOf(input.ConditionExpression, 'ConditionExpression', ctx);
    this.checkUnused(ctx);
    const old = table.items[keyStr];
    return {
      table,
      keyStr,
      old,
      next: null,
      conditionOk: condition ? evaluateCondition(old ?? {}, condition, input.ExpressionAttributeValues ?? {}) : true,
      returnOldOnFailure: input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD',
    };
  }

  private commit(plan: WritePlan): void {
    if (plan.next === null) delete plan.table.items[plan.keyStr];
    else if (plan.next !== undefined) plan.table.items[plan.keyStr] = plan.next;
  }

  // ---- commands ------------------------------------------------------------------------

  private createTableCommand(input: CreateTableCommandInput): Out<CreateTableCommandOutput> {
    const name = input.TableName ?? '';
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(name))
      this.validation(`TableName must be 3 to 255 characters of [a-zA-Z0-9_.-]`);
    if (this.state.tables[name]) this.fail('ResourceInUseException', `Table already exists: ${name}`);
    const keyDef = (schema: KeySchemaElement[] | undefined): KeyDef => {
      const partition = schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
      if (!partition) return this.validation('1 validation error detected: KeySchema must contain a HASH key');
      return { partition, sort: schema?.find((k) => k.KeyType === 'RANGE')?.AttributeName };
    };
    const key = keyDef(input.KeySchema);
    const indexes: IndexRecord[] = (input.GlobalSecondaryIndexes ?? []).map((gsi: GlobalSecondaryIndex) => ({
      IndexName: gsi.IndexName ?? '',
      key: keyDef(gsi.KeySchema),
      KeySchema: gsi.KeySchema ?? [],
      projectionType: gsi.Projection?.ProjectionType ?? 'ALL',
      nonKeyAttributes: gsi.Projection?.NonKeyAttributes ?? [],
    }));
    const defined = new Set((input.AttributeDefinitions ?? []).map((a) => a.AttributeName));
    for (const k of [key, ...indexes.map((i) => i.key)]) {
      for (const n of [k.partition, k.sort]) {
        if (n && !defined.has(n))
          this.validation(
            `One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [${n}]`,
          );
      }
    }
    const table: TableRecord = {
      TableName: name,
      TableArn: this.arn('dynamodb', `table/${name}`),
      KeySchema: input.KeySchema ?? [],
      AttributeDefinitions: input.AttributeDefinitions ?? [],
      key,
      indexes,
      CreationDateTime: this.now,
      BillingMode: input.BillingMode ?? 'PROVISIONED',
      items: {},
    };
    this.state.tables[name] = table;
    return { TableDescription: this.describe(table) };
  }

  private describe(table: TableRecord): TableDescription {
    return {
      TableName: table.TableName,
      TableArn: table.TableArn,
      TableStatus: 'ACTIVE',
      KeySchema: table.KeySchema,
      AttributeDefinitions: table.AttributeDefinitions,
      CreationDateTime: new Date(table.CreationDateTime),
      ItemCount: Object.keys(table.items).length,
      BillingModeSummary: { BillingMode: table.BillingMode as 'PAY_PER_REQUEST' },
      GlobalSecondaryIndexes: table.indexes.length
        ? table.indexes.map((i) => ({
            IndexName: i.IndexName,
            KeySchema: i.KeySchema,
            Projection: {
              ProjectionType: i.projectionType,
              NonKeyAttributes: i.nonKeyAttributes.length ? i.nonKeyAttributes : undefined,
            },
            IndexStatus: 'ACTIVE',
            IndexArn: `${table.TableArn}/index/${i.IndexName}`,
          }))
        : undefined,
    };
  }

  private describeTable(input: DescribeTableCommandInput): Out<DescribeTableCommandOutput> {
    return { Table: this.describe(this.table(input.TableName)) };
  }

  private getItem(input: GetItemCommandInput): Out<GetItemCommandOutput> {
    const table = this.table(input.TableName);
    const keyStr = this.keyOf(table, input.Key);
    const ctx = this.context(input);
    const projection = input.ProjectionExpression ? parseProjection(input.ProjectionExpression, ctx) : undefined;
    this.checkUnused(ctx);
    const item = table.items[keyStr];
    if (!item) return {};
    return { Item: projection ? project(item, projection) : structuredClone(item) };
  }

  private putItem(input: PutItemCommandInput): Out<PutItemCommandOutput> {
    if (input.ReturnValues && !['NONE', 'ALL_OLD'].includes(input.ReturnValues)) {
      this.validation('Return values set to invalid value');
    }
    const plan = this.planPut(input);
    if (!plan.conditionOk) this.conditionalCheckFailed(plan);
    this.commit(plan);
    return input.ReturnValues === 'ALL_OLD' && plan.old ? { Attributes: plan.old } : {};
  }

  private updateItem(input: UpdateItemCommandInput): Out<UpdateItemCommandOutput> {
    const plan = this.planUpdate(input);
    if (!plan.conditionOk) this.conditionalCheckFailed(plan);
    this.commit(plan);
    const pick = (item: Item | undefined, names: string[]): Item | undefined => {
      if (!item) return undefined;
      const out: Item = {};
      for (const n of names) if (item[n] !== undefined) out[n] = item[n] as AttributeValue;
      return Object.keys(out).length ? out : undefined;
    };
    switch (input.ReturnValues ?? 'NONE') {
      case 'ALL_NEW':
        return { Attributes: plan.next ?? undefined };
      case 'ALL_OLD':
        return plan.old ? { Attributes: plan.old } : {};
      case 'UPDATED_NEW':
        return { Attributes: pick(plan.next ?? undefined, plan.touched) };
      case 'UPDATED_OLD':
        return { Attributes: pick(plan.old, plan.touched) };
      case 'NONE':
        return {};
      default:
        return this.validation('Return values set to invalid value');
    }
  }

  private deleteItem(input: DeleteItemCommandInput): Out<DeleteItemCommandOutput> {
    if (input.ReturnValues && !['NONE', 'ALL_OLD'].includes(input.ReturnValues)) {
      this.validation('Return values set to invalid value');
    }
    const plan = this.planDelete(input);
    if (!plan.conditionOk) this.conditionalCheckFailed(plan);
    this.commit(plan);
    return input.ReturnValues === 'ALL_OLD' && plan.old ? { Attributes: plan.old } : {};
  }

  /** The key attributes of the key condition: partition equality and an optional sort test. */
  private keyCondition(condition: Condition, key: KeyDef): { partition: Condition; sort?: Condition } {
    const parts: Condition[] = condition.kind === 'and' ? [condition.left, condition.right] : [condition];
    if (parts.some((p) => p.kind === 'and' || p.kind === 'or' || p.kind === 'not' || p.kind === 'in')) {
      this.validation('Invalid operator used in KeyConditionExpression: OR');
    }
    const attributeOf = (c: Condition): string | undefined => {
      const operand =
        c.kind === 'compare'
          ? c.left
          : c.kind === 'between'
            ? c.operand
            : c.kind === 'function'
              ? c.args[0]
              : undefined;
      if (operand?.kind !== 'path' || operand.path.segments.length !== 1) return undefined;
      return (operand.path.segments[0] as { name: string }).name;
    };
    const partition = parts.find((p) => attributeOf(p) === key.partition);
    if (!partition) return this.validation(`Query condition missed key schema element: ${key.partition}`);
    if (partition.kind !== 'compare' || partition.op !== '=' || partition.right.kind !== 'value') {
      this.validation('Query key condition not supported');
    }
    const sort = parts.find((p) => p !== partition);
    if (sort) {
      if (!key.sort || attributeOf(sort) !== key.sort) {
        this.validation(`Query condition missed key schema element: ${key.sort ?? key.partition}`);
      }
      const ok =
        (sort.kind === 'compare' && sort.op !== '<>' && sort.right.kind === 'value') ||
        (sort.kind === 'between' && sort.low.kind === 'value' && sort.high.kind === 'value') ||
        (sort.kind === 'function' && sort.name === 'begins_with' && sort.args[1]?.kind === 'value');
      if (!ok) this.validation('Query key condition not supported');
    }
    return { partition, sort };
  }

  private sortedItems(table: TableRecord, index: IndexRecord | undefined, forward: boolean): Item[] {
    const key = index?.key ?? table.key;
    let items = Object.values(table.items);
    if (index) {
      items = items.filter((i) => i[key.partition] !== undefined && (!key.sort || i[key.sort] !== undefined));
    }
    const sortBy = (a: Item, b: Item): number => {
      for (const name of [key.sort, table.key.partition, table.key.sort]) {
        if (!name) continue;
        const av = a[name];
        const bv = b[name];
        if (!av || !bv) continue;
        const c = compareValues(av, bv) ?? 0;
        if (c !== 0) return c;
      }
      return 0;
    };
    items.sort(sortBy);
    if (!forward) items.reverse();
    return items;
  }

  private projectIndex(table: TableRecord, index: IndexRecord | undefined, item: Item): Item {
    if (!index || index.projectionType === 'ALL') return structuredClone(item);
    const keep = new Set([table.key.partition, table.key.sort, index.key.partition, index.key.sort]);
    if (index.projectionType === 'INCLUDE') for (const n of index.nonKeyAttributes) keep.add(n);
    const out: Item = {};
    for (const [k, v] of Object.entries(item)) if (keep.has(k)) out[k] = structuredClone(v);
    return out;
  }

  private lastKeyOf(table: TableRecord, index: IndexRecord | undefined, item: Item): Item {
    const names = [table.key.partition, table.key.sort, index?.key.partition, index?.key.sort];
    const out: Item = {};
    for (const n of names) if (n && item[n]) out[n] = structuredClone(item[n] as AttributeValue);
    return out;
  }

  /** Reads items in order from after ExclusiveStartKey, applying Limit to evaluated items. */
  private readPage(
    table: TableRecord,
    index: IndexRecord | undefined,
    candidates: Item[],
    input: { Limit?: number; ExclusiveStartKey?: Item },
  ): { evaluated: Item[]; lastKey?: Item } {
    let start = 0;
    if (input.ExclusiveStartKey) {
      const startStr = this.keyStringOf(table, input.ExclusiveStartKey);
      const at = candidates.findIndex((i) => this.keyStringOf(table, i) === startStr);
      start = at >= 0 ? at + 1 : 0;
    }
    if (input.Limit !== undefined && input.Limit < 1) this.validation('Limit must be greater than or equal to 1');
    const end = input.Limit !== undefined ? Math.min(candidates.length, start + input.Limit) : candidates.length;
    const evaluated = candidates.slice(start, end);
    const last = evaluated[evaluated.length - 1];
    return { evaluated, lastKey: end < candidates.length && last ? this.lastKeyOf(table, index, last) : undefined };
  }

  private resolveIndex(table: TableRecord, name: string | undefined): IndexRecord | undefined {
    if (name === undefined) return undefined;
    const index = table.indexes.find((i) => i.IndexName === name);
    if (!index) {
      return this.validation(`The table does not have the specified index: ${name}`);
    }
    return index;
  }

  private query(input: QueryCommandInput): Out<QueryCommandOutput> {
    const table = this.table(input.TableName);
    const index = this.resolveIndex(table, input.IndexName);
    if (index && input.ConsistentRead)
      this.validation('Consistent reads are not supported on global secondary indexes');
    if (!input.KeyConditionExpression) {
      return this.validation(
        'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
      );
    }
    const ctx = this.context(input);
    const keyCondition = parseCondition(input.KeyConditionExpression, 'KeyConditionExpression', ctx);
    const filter = this.parseConditionOf(input.FilterExpression, 'FilterExpression', ctx);
    const projection = input.ProjectionExpression ? parseProjection(input.ProjectionExpression, ctx) : undefined;
    this.checkUnused(ctx);
    const key = index?.key ?? table.key;
    const { partition, sort } = this.keyCondition(keyCondition, key);
    const values = input.ExpressionAttributeValues ?? {};
    const candidates = this.sortedItems(table, index, input.ScanIndexForward ?? true).filter(
      (item) => evaluateCondition(item, partition, values) && (!sort || evaluateCondition(item, sort, values)),
    );
    return this.finishRead(table, index, candidates, input, filter, projection, values);
  }

  private scan(input: ScanCommandInput): Out<ScanCommandOutput> {
    const table = this.table(input.TableName);
    const index = this.resolveIndex(table, input.IndexName);
    const ctx = this.context(input);
    const filter = this.parseConditionOf(input.FilterExpression, 'FilterExpression', ctx);
    const projection = input.ProjectionExpression ? parseProjection(input.ProjectionExpression, ctx) : undefined;
    this.checkUnused(ctx);
    const candidates = index ? this.sortedItems(table, index, true) : Object.values(table.items);
    return this.finishRead(table, index, candidates, input, filter, projection, input.ExpressionAttributeValues ?? {});
  }

  private finishRead(
    table: TableRecord,
    index: IndexRecord | undefined,
    candidates: Item[],
    input: { Limit?: number; ExclusiveStartKey?: Item; Select?: string },
    filter: Condition | undefined,
    projection: Path[] | undefined,
    values: Record<string, AttributeValue>,
  ): Out<QueryCommandOutput> {
    const { evaluated, lastKey } = this.readPage(table, index, candidates, input);
    const matched = filter ? evaluated.filter((i) => evaluateCondition(i, filter, values)) : evaluated;
    const items = matched.map((i) => {
      const visible = this.projectIndex(table, index, i);
      return projection ? project(visible, projection) : visible;
    });
    return {
      Items: input.Select === 'COUNT' ? undefined : items,
      Count: matched.length,
      ScannedCount: evaluated.length,
      LastEvaluatedKey: lastKey,
    };
  }

  /**
   * TransactWriteItems: every condition is evaluated against the current state first; if
   * any fails, nothing is written and TransactionCanceledException lists a reason per item
   * (`None` for the others). A ClientRequestToken makes the call idempotent for 10 minutes.
   */
  private transactWriteItems(input: TransactWriteItemsCommandInput): Out<TransactWriteItemsCommandOutput> {
    const items = input.TransactItems ?? [];
    if (items.length < 1 || items.length > 100) {
      this.validation(
        "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
      );
    }
    const now = this.now;
    for (const [token, entry] of Object.entries(this.state.transactionTokens)) {
      if (now - entry.at > 600_000) delete this.state.transactionTokens[token];
    }
    const hash = createHash('sha256').update(JSON.stringify(items)).digest('hex');
    if (input.ClientRequestToken) {
      const seen = this.state.transactionTokens[input.ClientRequestToken];
      if (seen) {
        if (seen.hash !== hash) {
          this.fail(
            'IdempotentParameterMismatchException',
            'Transaction request was submitted with a token that was already used for a different request.',
          );
        }
        return {};
      }
    }
    const plans: WritePlan[] = items.map((entry) => {
      const set = [entry.Put, entry.Update, entry.Delete, entry.ConditionCheck].filter(Boolean);
      if (set.length !== 1) this.validation('TransactItems can only contain one of Check, Put, Update or Delete');
      if (entry.Put) return this.planPut(entry.Put);
      if (entry.Update) return this.planUpdate(entry.Update);
      if (entry.Delete) return this.planDelete(entry.Delete);
      const check = entry.ConditionCheck;
      const plan = this.planDelete({
        TableName: check?.TableName,
        Key: check?.Key,
        ConditionExpression: check?.ConditionExpression,
        ExpressionAttributeNames: check?.ExpressionAttributeNames,
        ExpressionAttributeValues: check?.ExpressionAttributeValues,
        ReturnValuesOnConditionCheckFailure: check?.ReturnValuesOnConditionCheckFailure,
      });
      return { ...plan, next: undefined };
    });
    const targets = plans.map((p) => `${p.table.TableName}|${p.keyStr}`);
    if (new Set(targets).size !== targets.length) {
      this.validation('Transaction request cannot include multiple operations on one item');
    }
    if (plans.some((p) => !p.conditionOk)) {
      const reasons: CancellationReason[] = plans.map((p) =>
        p.conditionOk
          ? { Code: 'None' }
          : {
              Code: 'ConditionalCheckFailed',
              Message: 'The conditional request failed',
              Item: p.returnOldOnFailure && p.old ? structuredClone(p.old) : undefined,
            },
      );
      this.fail(
        'TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        { fields: { CancellationReasons: reasons } },
      );
    }
    for (const plan of plans) this.commit(plan);
    if (input.ClientRequestToken) this.state.transactionTokens[input.ClientRequestToken] = { hash, at: now };
    return {};
  }

  private transactGetItems(input: TransactGetItemsCommandInput): Out<TransactGetItemsCommandOutput> {
    return {
      Responses: (input.TransactItems ?? []).map((entry) => {
        const out = this.getItem({
          TableName: entry.Get?.TableName,
          Key: entry.Get?.Key,
          ProjectionExpression: entry.Get?.ProjectionExpression,
          ExpressionAttributeNames: entry.Get?.ExpressionAttributeNames,
        });
        return out.Item ? { Item: out.Item } : {};
      }),
    };
  }

  private batchGetItem(input: BatchGetItemCommandInput): Out<BatchGetItemCommandOutput> {
    const requests = Object.entries(input.RequestItems ?? {});
    const total = requests.reduce((n, [, r]) => n + (r.Keys?.length ?? 0), 0);
    if (total > 100) this.validation('Too many items requested for the BatchGetItem call');
    const responses: Record<string, Item[]> = {};
    for (const [tableName, request] of requests) {
      const table = this.table(tableName);
      const keys = (request.Keys ?? []).map((k) => this.keyOf(table, k));
      if (new Set(keys).size !== keys.length) this.validation('Provided list of item keys contains duplicates');
      responses[tableName] = (request.Keys ?? []).flatMap((key) => {
        const out = this.getItem({
          TableName: tableName,
          Key: key,
          ProjectionExpression: request.ProjectionExpression,
          ExpressionAttributeNames: request.ExpressionAttributeNames,
        });
        return out.Item ? [out.Item] : [];
      });
    }
    return { Responses: responses, UnprocessedKeys: {} };
  }

  private batchWriteItem(input: BatchWriteItemCommandInput): Out<BatchWriteItemCommandOutput> {
    const requests = Object.entries(input.RequestItems ?? {});
    const total = requests.reduce((n, [, r]) => n + r.length, 0);
    if (total < 1 || total > 25) {
      this.validation(
        "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length less than or equal to 25",
      );
    }
    const plans: WritePlan[] = [];
    for (const [tableName, writes] of requests) {
      for (const w of writes) {
        if (w.PutRequest) plans.push(this.planPut({ TableName: tableName, Item: w.PutRequest.Item }));
        else if (w.DeleteRequest) plans.push(this.planDelete({ TableName: tableName, Key: w.DeleteRequest.Key }));
        else this.validation('Supplied AttributeValue has no PutRequest or DeleteRequest');
      }
    }
    const targets = plans.map((p) => `${p.table.TableName}|${p.keyStr}`);
    if (new Set(targets).size !== targets.length) this.validation('Provided list of item keys contains duplicates');
    for (const plan of plans) this.commit(plan);
    return { UnprocessedItems: {} };
  }
}
