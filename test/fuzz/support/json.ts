/** Small helpers for reading untyped JSON in assertions, and for printing huge counterexamples. */
import fc from 'fast-check';

/** The value at a path of an untyped JSON value, or undefined. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const part of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
    v = (v as Record<string | number, unknown>)[part];
  }
  return v;
}

/** JSON text with long strings cut, for failure messages. */
export function preview(value: unknown, max = 2_000): string {
  let text: string;
  try {
    text =
      JSON.stringify(value, (_k, v: unknown) =>
        typeof v === 'string' && v.length > 120 ? `${v.slice(0, 60)}…(${v.length} chars)` : v,
      ) ?? String(value);
  } catch (error) {
    text = `<unprintable: ${(error as Error).message}>`;
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Makes fast-check print a value through {@link preview} (counterexamples may hold 70 kB strings). */
export function printable<T extends object>(value: T, view: (v: T) => unknown = (v) => v): T {
  Object.defineProperty(value, fc.toStringMethod, { value: () => preview(view(value), 4_000), enumerable: false });
  return value;
}
