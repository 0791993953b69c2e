/**
 * Stable numbers derived from a site id (listener priority, uploads POSIX id). A site keeps
 * its number whatever else is in the fleet file: adding, removing or reordering sites never
 * moves another site's number, because moving a POSIX id would cut a site off from its own
 * uploads and moving a listener priority would collide with rules already deployed.
 * A collision is reported, never resolved by probing (which would move somebody).
 */

/** FNV-1a, 32 bits: small, fast, and the same on every machine. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** A number in [min, max] derived from `key` (salted so that two uses do not correlate). */
export function stableSlot(key: string, salt: string, min: number, max: number): number {
  const span = max - min + 1;
  return min + (fnv1a32(`${salt}:${key}`) % span);
}

/** The smallest value in [min, max] not in `taken`, for error messages that suggest a fix. */
export function firstFree(taken: ReadonlySet<number>, min: number, max: number): number | undefined {
  for (let v = min; v <= max; v++) if (!taken.has(v)) return v;
  return undefined;
}
