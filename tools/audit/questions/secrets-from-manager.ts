import { displayValue } from '../intrinsics';
import type { Inventory } from '../inventory';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';
import { type SiteCheck, siteEvidence, list, record, text, containersOf, ofType, answer, noSites } from './support';

const QUESTION: AuditQuestion = {
  number: 6,
  text: 'Do sites get their secrets from a secrets manager?',
  answer: ({ inventory }) => secretsFromManager(inventory),
};

const CREDENTIAL_NAME =
  /pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|salt|(^|_)key$|access[_-]?key/i;
const CREDENTIAL_VALUE = /AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function secretsFromManager(inventory: Inventory): SelfAssessmentAnswer {
  if (inventory.sites.length === 0) return noSites(QUESTION);
  const checks = inventory.sites.map((site): SiteCheck => {
    const problems: string[] = [];
    const parts: string[] = [];
    for (const taskDefinition of ofType(site, 'AWS::ECS::TaskDefinition')) {
      for (const container of containersOf(inventory, taskDefinition)) {
        const secrets = list(container.definition.Secrets).map(record);
        if (secrets.length === 0) problems.push(`container ${container.name} takes no secret`);
        const notManager = secrets.filter((s) => !/^arn:aws[a-z-]*:secretsmanager:/.test(text(s.ValueFrom)));
        for (const s of notManager)
          problems.push(`${text(s.Name)} comes from ${displayValue(text(s.ValueFrom) || '?')}, not Secrets Manager`);
        for (const variable of list(container.definition.Environment).map(record)) {
          const name = text(variable.Name);
          const value = text(variable.Value);
          if ((CREDENTIAL_NAME.test(name) && value !== '') || CREDENTIAL_VALUE.test(value)) {
            problems.push(`plain environment variable ${name} looks like a credential`);
          }
        }
        const sources = [
          ...new Set(secrets.map((s) => displayValue(text(s.ValueFrom).replace(/:[^:]*:[^:]*:[^:]*$/, '')))),
        ];
        parts.push(
          `container ${container.name} takes ${secrets.map((s) => text(s.Name)).join(', ')} from Secrets Manager (${sources.join(', ')})`,
        );
      }
    }
    if (parts.length === 0) problems.push('no task definition');
    return problems.length > 0
      ? { ok: false, line: `${site.id}: ${problems.join('; ')}` }
      : { ok: true, line: `${site.id}: ${parts.join('; ')}; no credential in plain environment variables` };
  });
  return answer(
    QUESTION,
    checks.every((c) => c.ok),
    siteEvidence(checks),
  );
}

export { QUESTION as secretsFromManagerQuestion };
