/**
 * Storage paths on the shared uploads file system. Two sites' access points on the same file
 * system must differ in POSIX uid, in gid (and neither may list the other's gid among its
 * secondary gids) and in root directory (neither may be the other or inside it). A task
 * definition that mounts another site's access point, or the file system without any access
 * point, is a path too.
 */
import { Component } from '../../contracts/tag-names';
import { displayValue, type Resolved } from './intrinsics';
import { type Inventory, type ResourceEntry, type SiteInventory, siteComponent } from './inventory';
import type { Finding, RuleReference } from './types';
import { directoriesOverlap, normalizeDirectory } from './wildcards';

export interface AccessPoint {
  readonly site: string;
  readonly entry: ResourceEntry;
  /** Resolved `FileSystemId`, or undefined. */
  readonly fileSystem?: string;
  /** Resolved `Ref` (the access point id). */
  readonly id: string;
  readonly uid?: string;
  readonly gid?: string;
  readonly secondaryGids: readonly string[];
  /** `RootDirectory.Path`, `/` when absent (the whole file system). */
  readonly root: string;
}

export function accessPointsOf(inventory: Inventory, site: SiteInventory): AccessPoint[] {
  const entries = [
    ...new Set([
      ...site.resources.filter((r) => r.type === 'AWS::EFS::AccessPoint'),
      ...siteComponent(site, Component.uploads).filter((r) => r.type === 'AWS::EFS::AccessPoint'),
    ]),
  ];
  return entries.map((entry) => accessPointOf(inventory, entry, site.id));
}

/** The access points no site owns (the platform's), with `site` empty. */
export function platformAccessPoints(inventory: Inventory): AccessPoint[] {
  return inventory
    .ofType('AWS::EFS::AccessPoint')
    .filter((entry) => inventory.siteOf(entry.token) === undefined)
    .map((entry) => accessPointOf(inventory, entry, ''));
}

export function accessPointOf(inventory: Inventory, entry: ResourceEntry, site: string): AccessPoint {
  const { resolver } = inventory;
  const p = resolver.resolve(entry.stack, entry.properties) as Record<string, Resolved>;
  const posix = (p.PosixUser ?? {}) as Record<string, Resolved>;
  const root = (p.RootDirectory ?? {}) as Record<string, Resolved>;
  const text = (v: Resolved) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const fileSystem = text(p.FileSystemId);
  const uid = posixId(posix.Uid);
  const gid = posixId(posix.Gid);
  return {
    site,
    entry,
    ...(fileSystem !== undefined ? { fileSystem } : {}),
    id: resolver.resolveString(entry.stack, { Ref: entry.logicalId }) ?? entry.token,
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
    secondaryGids: (Array.isArray(posix.SecondaryGids) ? posix.SecondaryGids : []).flatMap((g) => posixId(g) ?? []),
    root: normalizeDirectory(text(root.Path) ?? '/'),
  };
}

/**
 * A POSIX id as the number it is: EFS takes `Uid`/`Gid` as numbers ("The POSIX user ID used for
 * all file system operations using this access point", a Long), so `0042` and `42` are one user.
 * A value that is not a decimal integer is kept as written.
 */
export function posixId(value: Resolved): string | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return /^\d+$/.test(trimmed) ? BigInt(trimmed).toString() : trimmed;
}

/** The sites whose uploads an access point can see (its root holds theirs, or is inside it) or writes as (same uid). */
export function sitesSeenBy(point: AccessPoint, all: readonly AccessPoint[]): Set<string> {
  const seen = new Set<string>();
  for (const ap of all) {
    if (ap === point || ap.site === point.site) continue;
    const sameFs = !point.fileSystem || !ap.fileSystem || point.fileSystem === ap.fileSystem;
    const sameUser = point.uid !== undefined && point.uid === ap.uid;
    if (sameFs && (directoriesOverlap(point.root, ap.root) || sameUser)) seen.add(ap.site);
  }
  return seen;
}

export function describeAccessPoint(ap: AccessPoint): string {
  const ids = `uid ${ap.uid ?? '(none)'} gid ${ap.gid ?? '(none)'}${ap.secondaryGids.length ? ` secondary gids ${ap.secondaryGids.join(',')}` : ''}`;
  return `access point ${ids} root ${ap.root}`;
}

function ref(ap: AccessPoint): RuleReference {
  return { stack: ap.entry.stack.name, logicalId: ap.entry.logicalId, rule: describeAccessPoint(ap) };
}

export interface StorageAnalysis {
  readonly findings: Finding[];
  readonly accessPoints: number;
}

export function findStoragePaths(inventory: Inventory): StorageAnalysis {
  const { resolver } = inventory;
  const findings: Finding[] = [];
  const bySite = new Map(inventory.sites.map((s) => [s.id, accessPointsOf(inventory, s)]));
  const all = [...bySite.values()].flat();

  // Index by uid, gid and first directory segment so a large fleet is not compared pair by pair.
  const index = new Map<string, AccessPoint[]>();
  const put = (key: string, ap: AccessPoint) => index.set(key, [...(index.get(key) ?? []), ap]);
  for (const ap of all) {
    if (ap.uid !== undefined) put(`uid:${ap.uid}`, ap);
    if (ap.gid !== undefined) put(`gid:${ap.gid}`, ap);
  }
  const sameFileSystem = (x: AccessPoint, y: AccessPoint) =>
    x.fileSystem === undefined || y.fileSystem === undefined || x.fileSystem === y.fileSystem;
  const add = (a: AccessPoint, b: AccessPoint, summary: string) =>
    findings.push({ kind: 'storage', from: a.site, to: b.site, summary, rules: [ref(a), ref(b)] });

  for (const a of all) {
    const candidates = new Set<AccessPoint>([
      ...(a.uid !== undefined ? (index.get(`uid:${a.uid}`) ?? []) : []),
      ...(a.gid !== undefined ? (index.get(`gid:${a.gid}`) ?? []) : []),
      ...a.secondaryGids.flatMap((g) => index.get(`gid:${g}`) ?? []),
    ]);
    for (const b of candidates) {
      if (b.site === a.site || !sameFileSystem(a, b)) continue;
      if (a.uid !== undefined && a.uid === b.uid) {
        add(a, b, `${a.site} and ${b.site} write uploads as the same POSIX uid ${a.uid}`);
      }
      if (a.gid !== undefined && a.gid === b.gid) {
        add(a, b, `${a.site} and ${b.site} share the POSIX gid ${a.gid}`);
      }
      if (b.gid !== undefined && a.secondaryGids.includes(b.gid)) {
        add(a, b, `${a.site} holds ${b.site}'s gid ${b.gid} as a secondary gid`);
      }
    }
  }
  // Directories: sort so that a directory is followed by everything inside it.
  const byRoot = [...all].sort((x, y) => (x.root < y.root ? -1 : x.root > y.root ? 1 : 0));
  for (let i = 0; i < byRoot.length; i++) {
    const a = byRoot[i] as AccessPoint;
    for (let j = i + 1; j < byRoot.length; j++) {
      const b = byRoot[j] as AccessPoint;
      if (!directoriesOverlap(a.root, b.root)) {
        if (a.root !== '/' && !b.root.startsWith(a.root)) break;
        continue;
      }
      if (a.site === b.site || !sameFileSystem(a, b)) continue;
      const how =
        a.root === b.root
          ? `the same root directory ${a.root}`
          : `overlapping root directories ${a.root} and ${b.root}`;
      add(a, b, `${a.site} and ${b.site} have ${how}`);
      add(b, a, `${b.site} and ${a.site} have ${how}`);
    }
  }

  // Task definitions mounting another site's access point, or the file system with none.
  const platform = platformAccessPoints(inventory);
  const accessPointOwner = new Map([...all, ...platform].map((ap) => [ap.id, ap]));
  for (const site of inventory.sites) {
    for (const td of site.resources.filter((r) => r.type === 'AWS::ECS::TaskDefinition')) {
      const volumes = resolver.resolve(td.stack, td.properties.Volumes);
      for (const volume of Array.isArray(volumes) ? volumes : []) {
        const v = volume as { Name?: Resolved; EFSVolumeConfiguration?: Record<string, Resolved> } | null;
        const efs = v?.EFSVolumeConfiguration;
        if (!efs) continue;
        const auth = (efs.AuthorizationConfig ?? {}) as Record<string, Resolved>;
        const accessPoint = typeof auth.AccessPointId === 'string' ? auth.AccessPointId : undefined;
        const rule: RuleReference = {
          stack: td.stack.name,
          logicalId: td.logicalId,
          rule: `volume ${String(v?.Name ?? '?')}: EFS ${displayValue(efs.FilesystemId ?? null)} access point ${accessPoint ? displayValue(accessPoint) : '(none)'} root ${String(efs.RootDirectory ?? '/')}`,
        };
        const owner = accessPoint ? accessPointOwner.get(accessPoint) : undefined;
        if (owner && owner.site === '') {
          for (const other of sitesSeenBy(owner, all)) {
            if (other === site.id) continue;
            findings.push({
              kind: 'storage',
              from: site.id,
              to: other,
              summary: `${site.id}'s task definition mounts the platform's access point ${owner.entry.logicalId}, which sees ${other}'s uploads (${describeAccessPoint(owner)})`,
              rules: [rule, ref(owner)],
            });
          }
        } else if (owner && owner.site !== site.id) {
          findings.push({
            kind: 'storage',
            from: site.id,
            to: owner.site,
            summary: `${site.id}'s task definition mounts ${owner.site}'s access point`,
            rules: [rule, ref(owner)],
          });
        }
        if (!accessPoint) {
          const fileSystem = typeof efs.FilesystemId === 'string' ? efs.FilesystemId : undefined;
          for (const other of all) {
            if (other.site === site.id || (fileSystem && other.fileSystem && other.fileSystem !== fileSystem)) continue;
            findings.push({
              kind: 'storage',
              from: site.id,
              to: other.site,
              summary: `${site.id}'s task definition mounts the uploads file system without an access point, which holds ${other.site}'s directory ${other.root}`,
              rules: [rule, ref(other)],
            });
          }
        }
      }
    }
  }
  return { findings, accessPoints: all.length };
}
