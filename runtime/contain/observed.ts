import type { ObservedValue } from '../shared/incident-store';

/**
 * What a GuardDuty Runtime Monitoring finding saw, in the values an attacker in the container
 * chooses: the process (ProcessDetails: "Information about the observed process"; `name`,
 * `executablePath`, `user`), the runtime context (RuntimeContext: "Additional information about
 * the suspicious activity"; `commandLineExample`: "Example of the command line involved in the
 * suspicious activity", `scriptPath`: "The path to the script that was executed",
 * `threatFilePath`: "The suspicious file path for which the threat intelligence details were
 * found", `modifyingProcess`, `toolName`) and a DNS request's `domain` (DnsRequestAction: "The
 * domain information for the DNS query"). Field descriptions from the GuardDuty API reference
 * (the `@aws-sdk/client-guardduty` models); on EventBridge the finding's keys are camelCase.
 *
 * Kept as plain data, each value cut to {@link OBSERVED_VALUE_MAX} characters (its full length
 * recorded), never interpreted; whoever shows them escapes them (contracts/display.ts).
 */

/** The most characters of one value kept on the incident (the evidence bucket keeps the finding whole). */
export const OBSERVED_VALUE_MAX = 1_024;

const FIELDS: readonly (readonly [string, readonly string[]])[] = [
  ['process', ['service', 'runtimeDetails', 'process', 'name']],
  ['executable', ['service', 'runtimeDetails', 'process', 'executablePath']],
  ['user', ['service', 'runtimeDetails', 'process', 'user']],
  ['command line', ['service', 'runtimeDetails', 'context', 'commandLineExample']],
  ['script', ['service', 'runtimeDetails', 'context', 'scriptPath']],
  ['threat file', ['service', 'runtimeDetails', 'context', 'threatFilePath']],
  ['modifying process', ['service', 'runtimeDetails', 'context', 'modifyingProcess', 'executablePath']],
  ['tool', ['service', 'runtimeDetails', 'context', 'toolName']],
  ['domain', ['service', 'action', 'dnsRequestAction', 'domain']],
];

function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!current || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The observed values a finding's `detail` carries (strings only; others are left out). */
export function observedOf(detail: unknown): ObservedValue[] {
  const found: ObservedValue[] = [];
  for (const [what, path] of FIELDS) {
    const value = at(detail, path);
    if (typeof value !== 'string' || value.length === 0) continue;
    if (value.length <= OBSERVED_VALUE_MAX) {
      found.push({ what, value });
      continue;
    }
    // Never split a surrogate pair.
    const end = /[\ud800-\udbff]/.test(value.charAt(OBSERVED_VALUE_MAX - 1))
      ? OBSERVED_VALUE_MAX - 1
      : OBSERVED_VALUE_MAX;
    found.push({ what, value: value.slice(0, end), length: value.length });
  }
  return found;
}
