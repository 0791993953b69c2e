import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** An item in DynamoDB's wire form. */
export type Item = Record<string, AttributeValue>;

/** The type tag of an AttributeValue (`S`, `N`, `B`, `SS`, ..., `$unknown` never). */
/** The members of an AttributeValue as a plain record. */
export function raw(value: AttributeValue): Record<string, unknown> {
  return value as unknown as Record<string, unknown>;
}

export type AttributeType = 'S' | 'N' | 'B' | 'SS' | 'NS' | 'BS' | 'M' | 'L' | 'NULL' | 'BOOL';

const TYPES: AttributeType[] = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL'];

/** The type of a value, or a description of why it is not a valid AttributeValue. */
export function typeOf(value: AttributeValue): AttributeType | { invalid: string } {
  const keys = Object.keys(value).filter((k) => raw(value)[k] !== undefined);
  const types = keys.filter((k): k is AttributeType => (TYPES as string[]).includes(k));
  if (types.length === 0) {
    return { invalid: 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes' };
  }
  if (types.length > 1) {
    return {
      invalid:
        'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    };
  }
  return types[0] as AttributeType;
}

/** The type of a value already validated. */
export function typeOfValid(value: AttributeValue): AttributeType {
  const t = typeOf(value);
  if (typeof t === 'object') throw new Error(t.invalid);
  return t;
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Validates a value (recursively); returns an error message or undefined. */
export function validateValue(value: AttributeValue): string | undefined {
  const t = typeOf(value);
  if (typeof t === 'object') return t.invalid;
  const v = raw(value);
  switch (t) {
    case 'N':
      return NUMBER.test(String(v.N)) ? undefined : 'A value provided cannot be converted into a number';
    case 'SS':
    case 'NS':
    case 'BS': {
      const items = v[t] as unknown[];
      if (!items.length) {
        const kind = t === 'SS' ? 'string' : t === 'NS' ? 'number' : 'binary';
        return `One or more parameter values were invalid: An ${kind} set  may not be empty`;
      }
      if (t === 'NS' && items.some((n) => !NUMBER.test(String(n)))) {
        return 'A value provided cannot be converted into a number';
      }
      const canon = items.map((i) =>
        i instanceof Uint8Array ? Buffer.from(i).toString('base64') : t === 'NS' ? String(Number(i)) : String(i),
      );
      if (new Set(canon).size !== canon.length) return `Input collection [${canon.join(', ')}] contains duplicates.`;
      return undefined;
    }
    case 'L':
      for (const item of v.L as AttributeValue[]) {
        const e = validateValue(item);
        if (e) return e;
      }
      return undefined;
    case 'M':
      for (const item of Object.values(v.M as Item)) {
        const e = validateValue(item);
        if (e) return e;
      }
      return undefined;
    default:
      return undefined;
  }
}

function bytesOf(value: AttributeValue): Uint8Array {
  return (value as { B: Uint8Array }).B;
}

/** Compares two byte arrays as unsigned bytes. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** DynamoDB orders strings by their UTF-8 bytes. */
export function compareStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Compares decimal number strings exactly (integers) or as doubles. */
export function compareNumbers(a: string, b: string): number {
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return Math.sign(Number(a) - Number(b));
}

/** Adds or subtracts decimal number strings (exact for integers). */
export function addNumbers(a: string, b: string, sign = 1): string {
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) return String(BigInt(a) + BigInt(sign) * BigInt(b));
  return String(Number(a) + sign * Number(b));
}

/**
 * Orders two scalar values of the same type (S, N, B); undefined when they are not
 * comparable (different types or non-scalars).
 */
export function compareValues(a: AttributeValue, b: AttributeValue): number | undefined {
  const ta = typeOfValid(a);
  const tb = typeOfValid(b);
  if (ta !== tb) return undefined;
  if (ta === 'S') return compareStrings(a.S ?? '', b.S ?? '');
  if (ta === 'N') return compareNumbers(a.N ?? '0', b.N ?? '0');
  if (ta === 'B') return compareBytes(bytesOf(a), bytesOf(b));
  return undefined;
}

/** Deep equality with set semantics for SS/NS/BS. */
export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const ta = typeOfValid(a);
  if (ta !== typeOfValid(b)) return false;
  const va = raw(a)[ta];
  const vb = raw(b)[ta];
  switch (ta) {
    case 'S':
    case 'BOOL':
    case 'NULL':
      return va === vb;
    case 'N':
      return compareNumbers(String(va), String(vb)) === 0;
    case 'B':
      return compareBytes(va as Uint8Array, vb as Uint8Array) === 0;
    case 'SS':
    case 'NS':
    case 'BS': {
      const sa = va as unknown[];
      const sb = vb as unknown[];
      return sa.length === sb.length && sa.every((x) => sb.some((y) => setMemberEqual(ta, x, y)));
    }
    case 'L': {
      const la = va as AttributeValue[];
      const lb = vb as AttributeValue[];
      return la.length === lb.length && la.every((x, i) => valuesEqual(x, lb[i] as AttributeValue));
    }
    case 'M': {
      const ma = va as Item;
      const mb = vb as Item;
      const keys = Object.keys(ma);
      return (
        keys.length === Object.keys(mb).length &&
        keys.every((k) => mb[k] !== undefined && valuesEqual(ma[k] as AttributeValue, mb[k] as AttributeValue))
      );
    }
    default:
      return false;
  }
}

export function setMemberEqual(type: 'SS' | 'NS' | 'BS', x: unknown, y: unknown): boolean {
  if (type === 'NS') return compareNumbers(String(x), String(y)) === 0;
  if (type === 'BS') return compareBytes(x as Uint8Array, y as Uint8Array) === 0;
  return x === y;
}

/** A canonical string for a key value (used to index items). */
export function keyString(value: AttributeValue | undefined): string {
  if (!value) return '';
  const t = typeOfValid(value);
  if (t === 'B') return `B:${Buffer.from(bytesOf(value)).toString('base64')}`;
  if (t === 'N') return `N:${value.N}`;
  return `S:${value.S}`;
}

/** Approximate stored size of an item in bytes, as DynamoDB counts it (names + values). */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueSize(value), 0);
}

function valueSize(value: AttributeValue): number {
  const t = typeOfValid(value);
  const v = raw(value)[t];
  switch (t) {
    case 'S':
      return Buffer.byteLength(String(v));
    case 'N':
      return Math.ceil(String(v).replace(/^-/, '').length / 2) + 1;
    case 'B':
      return (v as Uint8Array).length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (v as string[]).reduce((s, x) => s + Buffer.byteLength(x), 0);
    case 'NS':
      return (v as string[]).reduce((s, x) => s + Math.ceil(x.length / 2) + 1, 0);
    case 'BS':
      return (v as Uint8Array[]).reduce((s, x) => s + x.length, 0);
    case 'L':
      return 3 + (v as AttributeValue[]).reduce((s, x) => s + 1 + valueSize(x), 0);
    case 'M':
      return 3 + Object.entries(v as Item).reduce((s, [k, x]) => s + Buffer.byteLength(k) + 1 + valueSize(x), 0);
    default:
      return 0;
  }
}
