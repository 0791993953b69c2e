/**
 * Reads a cloud assembly (`cdk.out`) as `cdk synth` writes it: `manifest.json` and the
 * template of every CloudFormation stack artifact, including stacks of nested assemblies
 * (CDK stages). Nothing else of the directory is read.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { AuditInputError } from './errors';

/** A CloudFormation template, loosely typed: the audit reads it defensively. */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, CfnOutput>;
  readonly Parameters?: Record<string, { readonly Default?: unknown; readonly Type?: string }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly [key: string]: unknown;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface CfnOutput {
  readonly Value: unknown;
  readonly Export?: { readonly Name: unknown };
}

export interface AssemblyStack {
  /** The stack's name in CloudFormation (`properties.stackName`, else the artifact id). */
  readonly name: string;
  readonly artifactId: string;
  /** Template path relative to the assembly directory. */
  readonly templateFile: string;
  readonly account?: string;
  readonly region?: string;
  readonly template: CfnTemplate;
}

export interface CloudAssembly {
  /** Absolute path of the directory read. */
  readonly directory: string;
  readonly stacks: readonly AssemblyStack[];
}

interface ManifestArtifact {
  readonly type?: unknown;
  readonly environment?: unknown;
  readonly properties?: {
    readonly templateFile?: unknown;
    readonly stackName?: unknown;
    readonly directoryName?: unknown;
  };
}

const STACK_ARTIFACT = 'aws:cloudformation:stack';
const NESTED_ASSEMBLY_ARTIFACT = 'cdk:cloud-assembly';
const HOW_TO_FIX = 'run `npx cdk synth` or `npm start` first';

function readJson(file: string, directory: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AuditInputError(
      `${what} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): ${HOW_TO_FIX}`,
      directory,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new AuditInputError(
      `${what} ${file} is not valid JSON (${(error as Error).message}): ${HOW_TO_FIX}`,
      directory,
      {
        cause: error,
      },
    );
  }
}

/** `aws://123456789012/eu-west-1` → account and region (unknown parts left out). */
function parseEnvironment(environment: unknown): { account?: string; region?: string } {
  if (typeof environment !== 'string') return {};
  const match = /^aws:\/\/([^/]+)\/(.+)$/.exec(environment);
  if (!match) return {};
  const [, account, region] = match;
  return {
    ...(account && !account.startsWith('unknown-') ? { account } : {}),
    ...(region && !region.startsWith('unknown-') ? { region } : {}),
  };
}

function readAssemblyDirectory(directory: string, root: string, seen: Set<string>): AssemblyStack[] {
  const manifestFile = path.join(directory, 'manifest.json');
  const manifest = readJson(manifestFile, root, 'The cloud assembly manifest') as {
    artifacts?: unknown;
  } | null;
  if (!manifest || typeof manifest !== 'object' || !manifest.artifacts || typeof manifest.artifacts !== 'object') {
    throw new AuditInputError(
      `${manifestFile} has no "artifacts": it is not a cloud assembly manifest; ${HOW_TO_FIX}`,
      root,
    );
  }
  const stacks: AssemblyStack[] = [];
  for (const [artifactId, raw] of Object.entries(manifest.artifacts as Record<string, ManifestArtifact>)) {
    if (!raw || typeof raw !== 'object') continue;
    if (raw.type === NESTED_ASSEMBLY_ARTIFACT && typeof raw.properties?.directoryName === 'string') {
      const nested = path.resolve(directory, raw.properties.directoryName);
      if (!seen.has(nested)) {
        seen.add(nested);
        stacks.push(...readAssemblyDirectory(nested, root, seen));
      }
      continue;
    }
    if (raw.type !== STACK_ARTIFACT) continue;
    const templateFile = raw.properties?.templateFile;
    if (typeof templateFile !== 'string') {
      throw new AuditInputError(
        `stack artifact ${artifactId} in ${manifestFile} names no templateFile; ${HOW_TO_FIX}`,
        root,
      );
    }
    const template = readJson(path.join(directory, templateFile), root, `The template of stack ${artifactId},`);
    if (!template || typeof template !== 'object' || Array.isArray(template)) {
      throw new AuditInputError(
        `the template of stack ${artifactId} (${templateFile}) is not a JSON object; ${HOW_TO_FIX}`,
        root,
      );
    }
    const name = typeof raw.properties?.stackName === 'string' ? raw.properties.stackName : artifactId;
    stacks.push({
      name,
      artifactId,
      templateFile: path.relative(root, path.join(directory, templateFile)),
      ...parseEnvironment(raw.environment),
      template: template as CfnTemplate,
    });
  }
  return stacks;
}

/**
 * Loads every CloudFormation stack of a cloud assembly directory.
 * @throws AuditInputError when the directory, its manifest or a template is missing or malformed.
 */
export function loadCloudAssembly(dir: string): CloudAssembly {
  const directory = path.resolve(dir);
  let isDirectory = false;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch {
    throw new AuditInputError(
      `no cloud assembly at ${directory} (the directory does not exist): ${HOW_TO_FIX}`,
      directory,
    );
  }
  if (!isDirectory) {
    throw new AuditInputError(
      `${directory} is not a directory (expected a cloud assembly, cdk.out): ${HOW_TO_FIX}`,
      directory,
    );
  }
  const stacks = readAssemblyDirectory(directory, directory, new Set([directory]));
  if (stacks.length === 0) {
    throw new AuditInputError(
      `the cloud assembly at ${directory} holds no CloudFormation stack: ${HOW_TO_FIX}`,
      directory,
    );
  }
  return { directory, stacks };
}
