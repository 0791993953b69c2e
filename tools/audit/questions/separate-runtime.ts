import { displayValue } from '../intrinsics';
import type { Inventory } from '../inventory';
import { accessPointsOf } from '../storage-paths';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';
import { type SiteCheck, siteEvidence, list, record, text, containersOf, ofType, answer, noSites } from './support';

const QUESTION: AuditQuestion = {
  number: 1,
  text: 'Does every site run in its own runtime with its own filesystem?',
  answer: ({ inventory }) => separateRuntime(inventory),
};

function separateRuntime(inventory: Inventory): SelfAssessmentAnswer {
  const { resolver } = inventory;
  if (inventory.sites.length === 0) return noSites(QUESTION);
  const checks = inventory.sites.map((site): SiteCheck => {
    const services = ofType(site, 'AWS::ECS::Service');
    const taskDefinitions = ofType(site, 'AWS::ECS::TaskDefinition');
    const accessPoints = accessPointsOf(inventory, site);
    const [service] = services;
    const [taskDefinition] = taskDefinitions;
    if (services.length !== 1 || taskDefinitions.length !== 1 || !service || !taskDefinition) {
      return {
        ok: false,
        line: `${site.id}: ${services.length} ECS services and ${taskDefinitions.length} task definitions in ${site.stack} (expected one of each)`,
      };
    }
    const runs = resolver.resolveString(service.stack, service.properties.TaskDefinition);
    const containers = containersOf(inventory, taskDefinition);
    const writableRoot = containers.filter((c) => c.definition.ReadonlyRootFilesystem !== true);
    const volumes = list(resolver.resolve(taskDefinition.stack, taskDefinition.properties.Volumes)).map(record);
    const ownAccessPoints = new Set(accessPoints.map((ap) => ap.id));
    const efs = volumes.filter((v) => v.EFSVolumeConfiguration !== undefined);
    const mountsOwn = efs.some((v) =>
      ownAccessPoints.has(text(record(record(v.EFSVolumeConfiguration).AuthorizationConfig).AccessPointId)),
    );
    const problems = [
      ...(runs !== taskDefinition.token
        ? [`service runs ${displayValue(runs ?? '?')}, not its own task definition`]
        : []),
      ...(containers.length === 0 ? ['no container'] : []),
      ...writableRoot.map((c) => `container ${c.name} has a writable root filesystem`),
      ...(accessPoints.length === 0 ? ['no EFS access point of its own'] : []),
      ...(accessPoints.length > 0 && !mountsOwn ? ['the task definition does not mount its own access point'] : []),
    ];
    return problems.length > 0
      ? { ok: false, line: `${site.id}: ${problems.join('; ')}` }
      : {
          ok: true,
          line: `${site.id}: service ${service.logicalId} runs its own task definition ${taskDefinition.logicalId} (${containers.length} container${containers.length === 1 ? '' : 's'}, read-only root filesystem) with uploads on its own access point ${accessPoints.map((ap) => ap.entry.logicalId).join(', ')}`,
        };
  });
  return answer(
    QUESTION,
    checks.every((c) => c.ok),
    siteEvidence(checks),
  );
}

export { QUESTION as separateRuntimeQuestion };
