/**
 * Text Bulkhead did not write, shown to people: values an attacker controls in GuardDuty runtime
 * findings (process names, executable paths, command lines, domain names), names and descriptions
 * read from templates, AWS error messages that echo a request, an operator's reason. The one home
 * for how such text is shown, in notices (runtime/incident/notify.ts), `siteops` (tools/cli), the
 * audit's terminal summary and its HTML report (tools/audit).
 *
 * What a value can do on a screen and what {@link printable} makes of it:
 * - a line break (LF, CR, VT, FF, NEL, U+2028/U+2029) would start a line that looks like
 *   Bulkhead's own (a forged "released" line in a notice or a table): shown as `\n`, `\r`,
 *   `\u2028`, … on the same line;
 * - a terminal escape sequence (ESC, CSI U+009B, any other C0 or C1 control, DEL) could move the
 *   cursor, recolour or hide what follows, retitle the window or set the clipboard: shown as
 *   `\u001b`, …;
 * - bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) would reorder
 *   what is shown ("Trojan Source", CVE-2021-42574), invisible characters (U+200B, U+FEFF) hide
 *   text, lone surrogates print as garbage: all shown as `\uXXXX`;
 * - a very long value (a 100 kB command line) would bury everything else and, in a notice, push
 *   the message past SNS's 256 KiB: cut to a bound, saying how much was left out.
 * A backslash is shown as it is; `\u001b` in the output may therefore have been those six
 * characters in the value, never the control itself.
 */

/** Characters that never reach a screen raw. */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Everything unsafe but the line feed: a guard on a whole output channel whose own lines end in `\n`. */
const UNSAFE_BUT_LF =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(char: string): string {
  return NAMED[char] ?? `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}

/** The default bound of {@link printable}: long enough for any path or command line worth reading. */
export const DISPLAY_MAX = 1_000;

/**
 * `value` as one line of inert text, at most `max` characters of it (plus the note saying how
 * many were left out). Never throws; `undefined` and `null` become an empty string.
 */
export function printable(value: unknown, max = DISPLAY_MAX): string {
  const text = value === undefined || value === null ? '' : String(value);
  let shown = text;
  let cut = 0;
  if (text.length > max) {
    // Never split a surrogate pair: a lone half would itself be escaped, which is harmless but noisy.
    let end = Math.max(0, max);
    if (end > 0 && /[\ud800-\udbff]/.test(text.charAt(end - 1))) end--;
    shown = text.slice(0, end);
    cut = text.length - end;
  }
  const safe = shown.replace(UNSAFE, escapeOne);
  return cut > 0 ? `${safe}… [${cut} more characters]` : safe;
}

/** A whole block of output whose own lines end in `\n`: every other unsafe character escaped. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_BUT_LF, escapeOne);
}

/** Whether a string holds anything {@link printable} would escape. */
export function hasUnsafeCharacters(text: string): boolean {
  return new RegExp(UNSAFE.source).test(text);
}

/** HTML text or attribute value: {@link printable}, then the five characters HTML gives meaning to. */
export function escapeHtml(value: unknown, max = 4_000): string {
  return printable(value, max)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
