/**
 * What a cloud assembly was synthesized from: the fleet file (and a digest of its content),
 * the environment, and the state of the source (git commit, plus a digest of uncommitted
 * changes). The CDK app (bin/bulkhead.ts) writes it beside `manifest.json`; the isolation
 * audit reads it, prints it, and refuses an assembly that is of another environment or older
 * than the fleet file or the source it is asked about.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** The file in the assembly directory. */
export const PROVENANCE_FILE = 'bulkhead-provenance.json';

/** The paths whose uncommitted changes make a synthesized assembly differ from its commit. */
const SOURCE_PATHS = [
  'bin',
  'contracts',
  'infra',
  'runtime',
  'tools',
  'config',
  'cdk.json',
  'package.json',
  'package-lock.json',
];

export interface SourceState {
  /** `git rev-parse HEAD`, or `unknown` outside a git checkout. */
  readonly commit: string;
  /** sha256 of the uncommitted changes to the source (tracked diffs and untracked files); absent when clean. */
  readonly uncommitted?: string;
}

export interface AssemblyProvenance extends SourceState {
  readonly version: 1;
  /** The fleet file as given (relative to the working directory when it is inside it). */
  readonly fleetFile: string;
  /** sha256 of the fleet file's content. */
  readonly fleetSha256: string;
  readonly environment: string;
  /** Only this site's stack (`-c site=<id>`). */
  readonly site?: string;
  readonly synthesizedAt: string;
}

function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/** The commit checked out at `root` and a digest of what is changed and not committed. */
export function sourceState(root: string = process.cwd()): SourceState {
  const commit = git(root, ['rev-parse', 'HEAD'])?.trim();
  if (!commit) return { commit: 'unknown' };
  const paths = SOURCE_PATHS.filter((p) => existsSync(path.join(root, p)));
  const diff = git(root, ['diff', 'HEAD', '--', ...paths]) ?? '';
  const untracked = (git(root, ['ls-files', '--others', '--exclude-standard', '--', ...paths]) ?? '')
    .split('\n')
    .filter(Boolean)
    .sort();
  if (diff === '' && untracked.length === 0) return { commit };
  const hash = createHash('sha256').update(diff);
  for (const file of untracked) {
    hash.update(`\u0000${file}\u0000`);
    try {
      hash.update(readFileSync(path.join(root, file)));
    } catch {
      // A file that disappeared between listing and reading changes nothing here.
    }
  }
  return { commit, uncommitted: hash.digest('hex') };
}

export function fileSha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A path as people typed it: relative to the working directory when it lies inside it. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, path.resolve(cwd, file));
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : path.resolve(cwd, file);
}

export interface ProvenanceInput {
  readonly fleetFile: string;
  readonly environment: string;
  readonly site?: string;
  /** The fleet file's content digest when the fleet was not read from `fleetFile` (generated in memory). */
  readonly fleetSha256?: string;
  readonly source?: SourceState;
  readonly now?: Date;
}

/** Writes the provenance of the assembly in `outdir`. */
export function writeProvenance(outdir: string, input: ProvenanceInput): AssemblyProvenance {
  const provenance: AssemblyProvenance = {
    version: 1,
    fleetFile: displayPath(input.fleetFile),
    fleetSha256: input.fleetSha256 ?? fileSha256(input.fleetFile),
    environment: input.environment,
    ...(input.site !== undefined ? { site: input.site } : {}),
    ...(input.source ?? sourceState()),
    synthesizedAt: (input.now ?? new Date()).toISOString(),
  };
  writeFileSync(path.join(outdir, PROVENANCE_FILE), `${JSON.stringify(provenance, null, 2)}\n`);
  return provenance;
}

/** The provenance of the assembly in `dir`, or undefined when there is none (or it is not one). */
export function readProvenance(dir: string): AssemblyProvenance | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path.join(dir, PROVENANCE_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  const p = parsed as Partial<AssemblyProvenance> | null;
  if (
    !p ||
    p.version !== 1 ||
    typeof p.fleetFile !== 'string' ||
    typeof p.fleetSha256 !== 'string' ||
    typeof p.environment !== 'string' ||
    typeof p.commit !== 'string' ||
    typeof p.synthesizedAt !== 'string'
  ) {
    return undefined;
  }
  return p as AssemblyProvenance;
}

/** One line for people: `config/example.yaml (environment example) at commit 1a2b3c4 + uncommitted changes`. */
export function describeProvenance(p: AssemblyProvenance): string {
  const commit = p.commit === 'unknown' ? 'an unknown commit' : `commit ${p.commit.slice(0, 12)}`;
  return `fleet file ${p.fleetFile} (environment ${p.environment}${p.site ? `, site ${p.site} only` : ''}) at ${commit}${p.uncommitted ? ' with uncommitted changes' : ''}, synthesized ${p.synthesizedAt}`;
}

/**
 * Why an assembly is not the one asked for, or undefined when it is: of another environment,
 * of another fleet file, synthesized from an older fleet file or another source state.
 */
export function provenanceMismatch(
  p: AssemblyProvenance | undefined,
  asked: { readonly environment?: string; readonly fleetFile?: string; readonly source?: SourceState },
): string | undefined {
  if (!p)
    return `it holds no ${PROVENANCE_FILE}, so nothing says which fleet, environment and commit it was synthesized from`;
  if (asked.environment !== undefined && p.environment !== asked.environment) {
    return `it holds environment ${p.environment} (${p.fleetFile}), not ${asked.environment}`;
  }
  if (asked.fleetFile !== undefined && path.resolve(p.fleetFile) !== path.resolve(asked.fleetFile)) {
    return `it was synthesized from ${p.fleetFile}, not ${displayPath(asked.fleetFile)}`;
  }
  if (existsSync(p.fleetFile) && fileSha256(p.fleetFile) !== p.fleetSha256) {
    return `${p.fleetFile} has changed since it was synthesized (${p.synthesizedAt})`;
  }
  const source = asked.source;
  if (source && source.commit !== 'unknown' && p.commit !== 'unknown') {
    if (source.commit !== p.commit) {
      return `it was synthesized at commit ${p.commit.slice(0, 12)}; the checkout is at ${source.commit.slice(0, 12)}`;
    }
    if ((source.uncommitted ?? '') !== (p.uncommitted ?? '')) {
      return 'the uncommitted changes to the source differ from those it was synthesized with';
    }
  }
  return undefined;
}
