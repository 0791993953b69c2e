import { displayValue } from '../intrinsics';
import type { Inventory } from '../inventory';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';
import { type SiteCheck, siteEvidence, text, containersOf, answer } from './support';

const QUESTION: AuditQuestion = {
  number: 8,
  text: 'Are deploy artifacts immutable?',
  answer: ({ inventory }) => immutableArtifacts(inventory),
};

const PINNED = /@sha256:[0-9a-f]{64}$/;

function immutableArtifacts(inventory: Inventory): SelfAssessmentAnswer {
  const siteOfStack = new Map(inventory.sites.map((s) => [s.stack, s.id]));
  const taskDefinitions = inventory.ofType('AWS::ECS::TaskDefinition');
  if (taskDefinitions.length === 0) return answer(QUESTION, false, ['No ECS task definition in the assembly.']);
  const checks = taskDefinitions.flatMap((td) =>
    containersOf(inventory, td).map((c): SiteCheck => {
      const image = text(c.definition.Image);
      const who = siteOfStack.get(td.stack.name) ?? `${td.stack.name}/${td.logicalId}`;
      const shown = displayValue(image || '?').replace(/(@sha256:[0-9a-f]{12})[0-9a-f]{52}$/, '$1…');
      return PINNED.test(image)
        ? { ok: true, line: `${who}: container ${c.name} image ${shown}` }
        : { ok: false, line: `${who}: container ${c.name} image ${shown} is not pinned by digest (@sha256:…)` };
    }),
  );
  const repositories = inventory.ofType('AWS::ECR::Repository');
  const mutable = repositories.filter(
    (r) => text(inventory.resolver.resolve(r.stack, r.properties.ImageTagMutability)) !== 'IMMUTABLE',
  );
  const evidence = [
    ...siteEvidence(checks),
    ...(repositories.length > 0
      ? [
          mutable.length === 0
            ? `${repositories.length} ECR repositories in the assembly have immutable tags.`
            : `✗ ECR repositories with mutable tags: ${mutable.map((r) => `${r.stack.name}/${r.logicalId}`).join(', ')}`,
        ]
      : []),
  ];
  return answer(QUESTION, checks.length > 0 && checks.every((c) => c.ok) && mutable.length === 0, evidence);
}

export { QUESTION as immutableArtifactsQuestion };
