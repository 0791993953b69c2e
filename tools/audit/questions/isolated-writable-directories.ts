import type { Inventory } from '../inventory';
import { accessPointsOf } from '../storage-paths';
import type { Finding, SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';
import { type SiteCheck, siteEvidence, list, record, text, containersOf, ofType, answer, noSites } from './support';

const QUESTION: AuditQuestion = {
  number: 3,
  text: 'Are writable directories isolated per site?',
  answer: ({ inventory, findings }) => isolatedWritableDirectories(inventory, findings),
};

function isolatedWritableDirectories(inventory: Inventory, findings: readonly Finding[]): SelfAssessmentAnswer {
  const { resolver } = inventory;
  if (inventory.sites.length === 0) return noSites(QUESTION);
  const checks = inventory.sites.map((site): SiteCheck => {
    const accessPoints = accessPointsOf(inventory, site);
    const own = new Set(accessPoints.map((ap) => ap.id));
    const problems: string[] = [];
    const writable: string[] = [];
    if (accessPoints.length === 0) problems.push('no access point');
    for (const ap of accessPoints) {
      if (ap.uid === undefined || ap.gid === undefined)
        problems.push(`access point ${ap.entry.logicalId} enforces no POSIX user`);
      if (ap.root === '/') problems.push(`access point ${ap.entry.logicalId} is rooted at the file system root`);
    }
    for (const taskDefinition of ofType(site, 'AWS::ECS::TaskDefinition')) {
      const volumes = new Map(
        list(resolver.resolve(taskDefinition.stack, taskDefinition.properties.Volumes))
          .map(record)
          .map((v) => [text(v.Name), v]),
      );
      for (const container of containersOf(inventory, taskDefinition)) {
        for (const mount of list(container.definition.MountPoints).map(record)) {
          if (mount.ReadOnly === true) continue;
          const volume = volumes.get(text(mount.SourceVolume)) ?? {};
          const efs = record(volume.EFSVolumeConfiguration);
          const path = text(mount.ContainerPath);
          if (volume.EFSVolumeConfiguration !== undefined) {
            if (own.has(text(record(efs.AuthorizationConfig).AccessPointId)))
              writable.push(`${path} (own access point)`);
            else problems.push(`${path} is on a file system volume that is not its own access point`);
          } else if (volume.Host !== undefined && text(record(volume.Host).SourcePath)) {
            problems.push(`${path} is a host path`);
          } else if (volume.DockerVolumeConfiguration !== undefined) {
            problems.push(`${path} is a Docker volume`);
          } else {
            writable.push(`${path} (task storage)`);
          }
        }
      }
    }
    const ids = accessPoints.map(
      (ap) => `${ap.entry.logicalId} root ${ap.root} uid ${ap.uid ?? '-'} gid ${ap.gid ?? '-'}`,
    );
    return problems.length > 0
      ? { ok: false, line: `${site.id}: ${problems.join('; ')}` }
      : { ok: true, line: `${site.id}: ${ids.join(', ')}; writable: ${writable.join(', ') || 'nothing'}` };
  });
  const paths = findings.filter((f) => f.kind === 'storage').length;
  const evidence = [
    ...siteEvidence(checks),
    paths === 0
      ? 'No two access points share a uid, a gid or a directory (one inside the other).'
      : `✗ ${paths} storage path${paths === 1 ? '' : 's'} in the pair matrix (shared POSIX ids or overlapping directories).`,
  ];
  return answer(QUESTION, checks.every((c) => c.ok) && paths === 0, evidence);
}

export { QUESTION as isolatedWritableDirectoriesQuestion };
