/**
 * Checks on what reached AWS: the names, ARNs, filters and keys in every call the model saw.
 */
import { expect } from 'vitest';
import type { CallRecord } from '../../support/aws-model';

export const VALID_SITE = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,23}$/;

/** The partition key (`pk`) a DynamoDB call writes or reads, in the low-level form the model logs. */
export function partitionKeyOf(call: CallRecord): string | undefined {
  const input = call.input as { Item?: { pk?: { S?: string } }; Key?: { pk?: { S?: string } } };
  return input.Item?.pk?.S ?? input.Key?.pk?.S;
}

/** Every string anywhere in a value, with its path. */
export function stringsIn(value: unknown, path = ''): { path: string; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => stringsIn(v, path ? `${path}.${k}` : k));
  }
  return [];
}

/**
 * What must hold for every call, whatever the input was:
 * - SSM parameter names are `/bulkhead/<env>/sites/<valid site id>`;
 * - EC2 filter values carry no wildcard (`*`, `?`) and a `tag:bulkhead:site` filter names a
 *   valid site id (EC2 filters treat `*` and `?` as wildcards: `*` would select every site);
 * - Step Functions execution names fit StartExecution's rules;
 * - no input contains any of `forbidden` (the hostile fragments of the case).
 */
export function expectCleanSinks(
  calls: readonly CallRecord[],
  environment: string,
  forbidden: readonly string[] = [],
): void {
  for (const call of calls) {
    const input = call.input as Record<string, unknown>;
    if (call.service === 'SSM') {
      for (const name of [input.Name, ...((input.Names as unknown[]) ?? [])].filter((n) => n !== undefined)) {
        expect(String(name)).toMatch(
          new RegExp(`^/bulkhead/${environment}/sites/[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,23}$`),
        );
      }
    }
    if (call.service === 'EC2') {
      for (const filter of (input.Filters as { Name?: string; Values?: string[] }[] | undefined) ?? []) {
        for (const v of filter.Values ?? []) {
          expect(v, `${call.command} filter ${filter.Name}`).not.toMatch(/[*?]/);
          if (filter.Name === 'tag:bulkhead:site') expect(v).toMatch(VALID_SITE);
          if (filter.Name === 'tag:bulkhead:env') expect(v).toBe(environment);
        }
      }
    }
    if (call.service === 'SFN' && call.command === 'StartExecution') {
      expect(String(input.name)).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    }
    for (const { path, value } of stringsIn(call.input)) {
      for (const f of forbidden) {
        expect(value.includes(f), `${call.service}:${call.command} ${path} carries ${JSON.stringify(f)}`).toBe(false);
      }
    }
  }
}
