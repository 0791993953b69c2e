import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  addNumbers,
  compareValues,
  type Item,
  raw,
  setMemberEqual,
  typeOfValid,
  valuesEqual,
} from './attribute-values';
import {
  type Condition,
  ExpressionError,
  type Operand,
  type Path,
  type SetValue,
  type UpdateAction,
} from './expressions';

type Values = Record<string, AttributeValue>;

/** The value at a document path, or undefined when any step is missing. */
export function resolvePath(item: Item, path: Path): AttributeValue | undefined {
  let current: AttributeValue | undefined;
  for (const [i, seg] of path.segments.entries()) {
    if (i === 0) {
      current = seg.kind === 'name' ? item[seg.name] : undefined;
    } else if (seg.kind === 'name') {
      current = current?.M?.[seg.name];
    } else {
      current = current?.L?.[seg.index];
    }
    if (current === undefined) return undefined;
  }
  return current;
}

function sizeOf(value: AttributeValue): number | undefined {
  const t = typeOfValid(value);
  const v = raw(value)[t];
  switch (t) {
    case 'S':
      return String(v).length;
    case 'B':
      return (v as Uint8Array).length;
    case 'SS':
    case 'NS':
    case 'BS':
    case 'L':
      return (v as unknown[]).length;
    case 'M':
      return Object.keys(v as object).length;
    default:
      return undefined;
  }
}

function operandValue(item: Item, operand: Operand, values: Values): AttributeValue | undefined {
  switch (operand.kind) {
    case 'path':
      return resolvePath(item, operand.path);
    case 'value':
      return values[operand.name];
    case 'size': {
      const v = resolvePath(item, operand.path);
      const size = v === undefined ? undefined : sizeOf(v);
      return size === undefined ? undefined : { N: String(size) };
    }
  }
}

function compare(op: string, a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  // A missing attribute (or a value of another type) is unequal to everything and
  // neither smaller nor larger: only <> holds.
  if (a === undefined || b === undefined) return op === '<>';
  if (op === '=') return valuesEqual(a, b);
  if (op === '<>') return !valuesEqual(a, b);
  const order = compareValues(a, b);
  if (order === undefined) return false;
  switch (op) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    default:
      return false;
  }
}

const ATTRIBUTE_TYPES = new Set(['S', 'SS', 'N', 'NS', 'B', 'BS', 'BOOL', 'NULL', 'L', 'M']);

/** Evaluates a condition (or filter) expression against an item ({} when absent). */
export function evaluateCondition(item: Item, condition: Condition, values: Values): boolean {
  switch (condition.kind) {
    case 'and':
      return evaluateCondition(item, condition.left, values) && evaluateCondition(item, condition.right, values);
    case 'or':
      return evaluateCondition(item, condition.left, values) || evaluateCondition(item, condition.right, values);
    case 'not':
      return !evaluateCondition(item, condition.operand, values);
    case 'compare':
      return compare(
        condition.op,
        operandValue(item, condition.left, values),
        operandValue(item, condition.right, values),
      );
    case 'between': {
      const v = operandValue(item, condition.operand, values);
      const low = operandValue(item, condition.low, values);
      const high = operandValue(item, condition.high, values);
      if (low && high) {
        const order = compareValues(low, high);
        if (order !== undefined && order > 0) {
          throw new ExpressionError(
            `Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: ${JSON.stringify(low)}, upper bound operand: AttributeValue: ${JSON.stringify(high)}`,
          );
        }
      }
      return compare('>=', v, low) && compare('<=', v, high);
    }
    case 'in': {
      const v = operandValue(item, condition.operand, values);
      return condition.list.some((o) => compare('=', v, operandValue(item, o, values)));
    }
    case 'function': {
      const [first, second] = condition.args;
      const target = first ? operandValue(item, first, values) : undefined;
      switch (condition.name) {
        case 'attribute_exists':
          return target !== undefined;
        case 'attribute_not_exists':
          return target === undefined;
        case 'attribute_type': {
          const wanted = second ? operandValue(item, second, values) : undefined;
          if (!wanted?.S || !ATTRIBUTE_TYPES.has(wanted.S)) {
            throw new ExpressionError(
              `Invalid ConditionExpression: Invalid attribute type name found; type: ${wanted?.S}, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}`,
            );
          }
          return target !== undefined && typeOfValid(target) === wanted.S;
        }
        case 'begins_with': {
          const prefix = second ? operandValue(item, second, values) : undefined;
          if (!target || !prefix) return false;
          if (target.S !== undefined && prefix.S !== undefined) return target.S.startsWith(prefix.S);
          if (target.B !== undefined && prefix.B !== undefined) {
            return Buffer.from(target.B).subarray(0, prefix.B.length).equals(Buffer.from(prefix.B));
          }
          return false;
        }
        case 'contains': {
          const needle = second ? operandValue(item, second, values) : undefined;
          if (!target || !needle) return false;
          const t = typeOfValid(target);
          if (t === 'S') return needle.S !== undefined && (target.S ?? '').includes(needle.S);
          if (t === 'B')
            return needle.B !== undefined && Buffer.from(target.B as Uint8Array).includes(Buffer.from(needle.B));
          if (t === 'SS' || t === 'NS' || t === 'BS') {
            const member = t === 'SS' ? needle.S : t === 'NS' ? needle.N : needle.B;
            return (
              member !== undefined && ((raw(target)[t] as unknown[]) ?? []).some((x) => setMemberEqual(t, x, member))
            );
          }
          if (t === 'L') return (target.L ?? []).some((x) => valuesEqual(x, needle));
          return false;
        }
      }
    }
  }
  return false;
}

function typeError(operator: string, value: AttributeValue): ExpressionError {
  return new ExpressionError(
    `Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: ${operator}, operand type: ${typeOfValid(value)}`,
  );
}

function evalSetValue(item: Item, value: SetValue, values: Values): AttributeValue {
  switch (value.kind) {
    case 'operand': {
      const v = operandValue(item, value.operand, values);
      if (v === undefined) {
        throw new ExpressionError('The provided expression refers to an attribute that does not exist in the item');
      }
      return v;
    }
    case 'plus':
    case 'minus': {
      const a = evalSetValue(item, value.left, values);
      const b = evalSetValue(item, value.right, values);
      const sign = value.kind === 'plus' ? '+' : '-';
      if (a.N === undefined) throw typeError(sign, a);
      if (b.N === undefined) throw typeError(sign, b);
      return { N: addNumbers(a.N, b.N, value.kind === 'plus' ? 1 : -1) };
    }
    case 'if_not_exists': {
      const existing = resolvePath(item, value.path);
      return existing ?? evalSetValue(item, value.fallback, values);
    }
    case 'list_append': {
      const a = evalSetValue(item, value.left, values);
      const b = evalSetValue(item, value.right, values);
      if (a.L === undefined) throw typeError('list_append', a);
      if (b.L === undefined) throw typeError('list_append', b);
      return { L: [...a.L, ...b.L] };
    }
  }
}

function invalidPath(): ExpressionError {
  return new ExpressionError('The document path provided in the update expression is invalid for update');
}

function setAt(item: Item, path: Path, value: AttributeValue): void {
  const segs = path.segments;
  const first = segs[0];
  if (!first || first.kind !== 'name') throw invalidPath();
  if (segs.length === 1) {
    item[first.name] = value;
    return;
  }
  let parent: AttributeValue | undefined = item[first.name];
  for (const seg of segs.slice(1, -1)) {
    parent = seg.kind === 'name' ? parent?.M?.[seg.name] : parent?.L?.[seg.index];
  }
  const last = segs[segs.length - 1];
  if (!parent || !last) throw invalidPath();
  if (last.kind === 'name') {
    if (!parent.M) throw invalidPath();
    parent.M[last.name] = value;
  } else {
    if (!parent.L) throw invalidPath();
    // Setting past the end appends, as DynamoDB does.
    if (last.index >= parent.L.length) parent.L.push(value);
    else parent.L[last.index] = value;
  }
}

function removeAt(item: Item, path: Path): void {
  const segs = path.segments;
  const first = segs[0];
  if (!first || first.kind !== 'name') return;
  if (segs.length === 1) {
    delete item[first.name];
    return;
  }
  let parent: AttributeValue | undefined = item[first.name];
  for (const seg of segs.slice(1, -1)) {
    parent = seg.kind === 'name' ? parent?.M?.[seg.name] : parent?.L?.[seg.index];
  }
  const last = segs[segs.length - 1];
  if (!parent || !last) return;
  if (last.kind === 'name') {
    if (parent.M) delete parent.M[last.name];
  } else if (parent.L && last.index < parent.L.length) {
    parent.L.splice(last.index, 1);
  }
}

function pathKey(path: Path): string[] {
  return path.segments.map((s) => (s.kind === 'name' ? `.${s.name}` : `[${s.index}]`));
}

/** DynamoDB refuses two actions on the same or overlapping document paths. */
export function checkOverlaps(actions: readonly UpdateAction[]): void {
  const keys = actions.map((a) => ({ text: a.path.text, key: pathKey(a.path) }));
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      const a = keys[i];
      const b = keys[j];
      if (!a || !b) continue;
      const n = Math.min(a.key.length, b.key.length);
      if (a.key.slice(0, n).join('') === b.key.slice(0, n).join('')) {
        throw new ExpressionError(
          `Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${a.text}], path two: [${b.text}]`,
        );
      }
    }
  }
}

/**
 * Applies update actions to a copy of the item. Right-hand sides are evaluated against the
 * item as it was before the update; SET, then REMOVE, ADD and DELETE are applied.
 */
export function applyUpdate(original: Item, actions: readonly UpdateAction[], values: Values): Item {
  const item = structuredClone(original);
  const computed = actions.map((a) => (a.kind === 'SET' ? evalSetValue(original, a.value, values) : undefined));
  actions.forEach((action, i) => {
    switch (action.kind) {
      case 'SET':
        setAt(item, action.path, structuredClone(computed[i] as AttributeValue));
        break;
      case 'REMOVE':
        removeAt(item, action.path);
        break;
      case 'ADD':
      case 'DELETE': {
        if (action.path.segments.length !== 1) {
          throw new ExpressionError(
            `Invalid UpdateExpression: ${action.kind} action can only be used on top-level attributes`,
          );
        }
        const name = (action.path.segments[0] as { name: string }).name;
        const operand = operandValue(original, action.value, values);
        if (!operand) throw invalidPath();
        const t = typeOfValid(operand);
        const existing = item[name];
        if (action.kind === 'ADD') {
          if (t !== 'N' && t !== 'SS' && t !== 'NS' && t !== 'BS') {
            throw new ExpressionError(
              `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: ${t}`,
            );
          }
          if (!existing) {
            item[name] = structuredClone(operand);
          } else if (t === 'N' && existing.N !== undefined) {
            item[name] = { N: addNumbers(existing.N, operand.N as string) };
          } else if (t !== 'N' && typeOfValid(existing) === t) {
            const current = (raw(existing)[t] as unknown[]) ?? [];
            const added = ((raw(operand)[t] as unknown[]) ?? []).filter(
              (x) => !current.some((y) => setMemberEqual(t, x, y)),
            );
            item[name] = { [t]: [...current, ...added] } as unknown as AttributeValue;
          } else {
            throw new ExpressionError('An operand in the update expression has an incorrect data type');
          }
        } else {
          if (t !== 'SS' && t !== 'NS' && t !== 'BS') {
            throw new ExpressionError(
              `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: ${t}`,
            );
          }
          if (!existing) break;
          if (typeOfValid(existing) !== t)
            throw new ExpressionError('An operand in the update expression has an incorrect data type');
          const removed = (raw(operand)[t] as unknown[]) ?? [];
          const left = ((raw(existing)[t] as unknown[]) ?? []).filter(
            (x) => !removed.some((y) => setMemberEqual(t, x, y)),
          );
          if (left.length) item[name] = { [t]: left } as unknown as AttributeValue;
          else delete item[name];
        }
        break;
      }
    }
  });
  return item;
}

/** Keeps only the projected paths of an item. */
export function project(item: Item, paths: readonly Path[]): Item {
  const out: Item = {};
  for (const path of paths) {
    const value = resolvePath(item, path);
    if (value === undefined) continue;
    // Rebuild the nesting along the path.
    const segs = path.segments;
    const first = segs[0] as { kind: 'name'; name: string };
    if (segs.length === 1) {
      out[first.name] = structuredClone(value);
      continue;
    }
    let source: AttributeValue | undefined = item[first.name];
    let target: AttributeValue = out[first.name] ?? (source?.M ? { M: {} } : { L: [] });
    out[first.name] = target;
    for (const [i, seg] of segs.slice(1).entries()) {
      const isLast = i === segs.length - 2;
      source = seg.kind === 'name' ? source?.M?.[seg.name] : source?.L?.[seg.index];
      if (source === undefined) break;
      const next: AttributeValue = isLast
        ? structuredClone(source)
        : seg.kind === 'name'
          ? (target.M?.[seg.name] ?? (source.M ? { M: {} } : { L: [] }))
          : source.M
            ? { M: {} }
            : { L: [] };
      if (seg.kind === 'name' && target.M) target.M[seg.name] = next;
      else if (target.L) target.L.push(next);
      target = next;
    }
  }
  return out;
}

/** The top-level attribute names an update touches (for UPDATED_OLD / UPDATED_NEW). */
export function touchedAttributes(actions: readonly UpdateAction[]): string[] {
  return [...new Set(actions.map((a) => (a.path.segments[0] as { name: string }).name))];
}
