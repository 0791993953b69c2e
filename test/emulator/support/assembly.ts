import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * A synthesized cloud assembly as `cdk synth` writes it (`manifest.json`, one template per
 * stack, `asset.<hash>/` folders with the bundled Lambda code), moved to another account.
 */

export interface EmulatedResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
}

export interface EmulatedTemplate {
  readonly Resources: Record<string, EmulatedResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Parameters?: Record<string, { Type?: string; Default?: unknown }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface AssemblyStack {
  readonly name: string;
  readonly template: EmulatedTemplate;
  /** Stacks this one depends on (deployed first). */
  readonly dependencies: readonly string[];
}

export interface Assembly {
  readonly directory: string;
  /** In deployment order. */
  readonly stacks: readonly AssemblyStack[];
  /** The bundled code of a Lambda function: the asset folder its `Code.S3Key` names. */
  assetPath(s3Key: string): string;
}

interface Manifest {
  artifacts: Record<
    string,
    { type: string; dependencies?: string[]; properties?: { templateFile?: string; stackName?: string } }
  >;
}

/**
 * Reads the assembly in `directory`, with every occurrence of each `from` text replaced by its
 * `to`: the fleet file's account (written literally into ARNs) by the world's, so the same
 * stacks deploy into an account of their own, and ARNs of things that exist before a deploy
 * (the cells' certificates) by those of their stand-ins.
 */
export function readAssembly(directory: string, replacements: ReadonlyMap<string, string>): Assembly {
  const manifest = JSON.parse(readFileSync(path.join(directory, 'manifest.json'), 'utf8')) as Manifest;
  const stackArtifacts = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  const names = new Set(stackArtifacts.map(([id]) => id));
  const byName = new Map<string, AssemblyStack>();
  for (const [id, artifact] of stackArtifacts) {
    const file = artifact.properties?.templateFile;
    if (!file) throw new Error(`stack ${id} has no template file in ${directory}/manifest.json`);
    let text = readFileSync(path.join(directory, file), 'utf8');
    for (const [from, to] of replacements) text = text.replaceAll(from, to);
    byName.set(id, {
      name: artifact.properties?.stackName ?? id,
      template: JSON.parse(text) as EmulatedTemplate,
      dependencies: (artifact.dependencies ?? []).filter((d) => names.has(d)),
    });
  }
  const ordered: AssemblyStack[] = [];
  const visiting = new Set<string>();
  const visit = (id: string) => {
    const stack = byName.get(id);
    if (!stack || ordered.includes(stack)) return;
    if (visiting.has(id)) throw new Error(`stack dependency cycle at ${id}`);
    visiting.add(id);
    for (const dependency of stack.dependencies) visit(dependency);
    ordered.push(stack);
  };
  for (const id of byName.keys()) visit(id);
  return {
    directory,
    stacks: ordered,
    assetPath(s3Key) {
      const hash = s3Key.replace(/\.zip$/, '');
      return path.join(directory, `asset.${hash}`);
    },
  };
}
