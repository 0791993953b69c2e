/**
 * Deterministic identifiers. AWS ids look random; the model's are produced by a seeded
 * generator so two runs of the same test see the same ids and failures reproduce.
 */
export class IdGenerator {
  private state: number;

  constructor(private readonly seed = 0x5eed) {
    this.state = seed;
  }

  /** Restarts the sequence (used by `model.reset()`). */
  reset(): void {
    this.state = this.seed;
  }

  /** A float in [0, 1), mulberry32. */
  random(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** `length` lowercase hex characters. */
  hex(length: number): string {
    let out = '';
    while (out.length < length) {
      out += Math.floor(this.random() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    }
    return out.slice(0, length);
  }

  /** `length` decimal digits (the first is never 0). */
  digits(length: number): string {
    let out = String(1 + Math.floor(this.random() * 9));
    while (out.length < length) out += String(Math.floor(this.random() * 10));
    return out;
  }

  /** Characters drawn from `alphabet`. */
  pick(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.random() * alphabet.length)];
    return out;
  }

  /** An RFC 4122 version 4 UUID shape. */
  uuid(): string {
    const h = this.hex(32);
    const variant = ((Number.parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** An EC2-style id such as `sg-0123456789abcdef0` (17 hex characters after the prefix). */
  ec2(prefix: string): string {
    return `${prefix}-0${this.hex(16)}`;
  }
}
