import { type marshallOptions, marshall, type unmarshallOptions, unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * How lib-dynamodb describes which members of a command's input/output hold native values:
 * `null` (the value itself), `{}`/`[]` (every member), `{ '*': nodes }` (every member,
 * then nodes), or `{ key: nodes }` (those keys). This mirrors lib-dynamodb's own
 * marshalling walk so a mocked DynamoDBDocumentClient sends the model exactly the
 * low-level request the real one would.
 */
export type KeyNodes = null | Record<string, unknown> | unknown[];

type Convert = (value: unknown) => unknown;

function processObj(obj: unknown, fn: Convert, keyNodes: KeyNodes | undefined): unknown {
  if (obj === undefined) return undefined;
  if (keyNodes === null || keyNodes === undefined) return fn(obj);
  const keys = Object.keys(keyNodes);
  if (keys.length === 1 && keys[0] === '*') {
    const next = (keyNodes as Record<string, KeyNodes>)['*'];
    const out: Record<string, unknown> | unknown[] = Array.isArray(obj) ? [] : {};
    for (const [k, v] of Object.entries((obj as object) ?? {})) {
      if (typeof v !== 'function') (out as Record<string, unknown>)[k] = processObj(v, fn, next);
    }
    return out;
  }
  if (keys.length === 0) return processAll(obj, fn);
  return processKeys(obj, fn, keyNodes as Record<string, KeyNodes>);
}

function processKeys(obj: unknown, fn: Convert, keyNodes: Record<string, KeyNodes>): unknown {
  const source = obj as Record<string, unknown>;
  const out: Record<string, unknown> | unknown[] = Array.isArray(obj)
    ? obj.filter((x) => typeof x !== 'function')
    : Object.fromEntries(Object.entries(source).filter(([, v]) => typeof v !== 'function'));
  for (const [key, nodes] of Object.entries(keyNodes)) {
    if (typeof source[key] === 'function') continue;
    const processed = processObj(source[key], fn, nodes);
    if (processed !== undefined && typeof processed !== 'function') (out as Record<string, unknown>)[key] = processed;
  }
  return out;
}

function processAll(obj: unknown, fn: Convert): unknown {
  if (Array.isArray(obj)) return obj.filter((x) => typeof x !== 'function').map((x) => processObj(x, fn, null));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj as object)) {
    if (typeof v === 'function') continue;
    const processed = processObj(v, fn, null);
    if (processed !== undefined && typeof processed !== 'function') out[k] = processed;
  }
  return out;
}

/** What a lib-dynamodb command carries besides its input. */
export interface DocumentCommand {
  input: object;
  inputKeyNodes: KeyNodes;
  outputKeyNodes: KeyNodes;
  clientCommand: { constructor: { name: string } };
}

/** The translate options a DynamoDBDocumentClient was created with. */
export interface TranslateConfig {
  marshallOptions?: marshallOptions;
  unmarshallOptions?: unmarshallOptions;
}

/** Native input → low-level input, with lib-dynamodb's defaults. */
export function marshallInput(command: DocumentCommand, config: TranslateConfig | undefined): Record<string, unknown> {
  const options = {
    ...config?.marshallOptions,
    convertTopLevelContainer: config?.marshallOptions?.convertTopLevelContainer ?? true,
  };
  return processKeys(
    command.input,
    (v) => marshall(v as never, options),
    command.inputKeyNodes as Record<string, KeyNodes>,
  ) as Record<string, unknown>;
}

/** Low-level output → native output, with lib-dynamodb's defaults. */
export function unmarshallOutput(
  command: DocumentCommand,
  output: Record<string, unknown>,
  config: TranslateConfig | undefined,
): Record<string, unknown> {
  const options = {
    ...config?.unmarshallOptions,
    convertWithoutMapWrapper: config?.unmarshallOptions?.convertWithoutMapWrapper ?? true,
  };
  return processKeys(
    output,
    (v) => unmarshall(v as never, options),
    command.outputKeyNodes as Record<string, KeyNodes>,
  ) as Record<string, unknown>;
}
