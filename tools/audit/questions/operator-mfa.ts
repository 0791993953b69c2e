import { TAG_COMPONENT } from '../../../contracts/tag-names';
import type { Resolved } from '../intrinsics';
import type { Inventory } from '../inventory';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';
import { list, record, text, taggedAs, answer } from './support';

const QUESTION: AuditQuestion = {
  number: 4,
  text: 'Do admin (operator) roles require MFA?',
  answer: ({ inventory }) => operatorMfa(inventory),
};

/** `bulkhead:component` of the operators' role (in the `Bulkhead-<env>-Ops` stack). */
export const OPERATOR_ROLE_COMPONENT = 'operator-role';

function requiresMfa(statement: Record<string, Resolved>): boolean {
  const condition = record(statement.Condition);
  for (const [operator, clauses] of Object.entries(condition)) {
    if (operator !== 'Bool') continue; // BoolIfExists passes when the key is absent: no MFA.
    for (const [key, value] of Object.entries(record(clauses))) {
      if (key.toLowerCase() !== 'aws:multifactorauthpresent') continue;
      const values = list(value).map((v) => text(v).toLowerCase());
      if (values.length > 0 && values.every((v) => v === 'true')) return true;
    }
  }
  return false;
}

function operatorMfa(inventory: Inventory): SelfAssessmentAnswer {
  const env = inventory.environment ?? '<env>';
  const roles = taggedAs(inventory.ofType('AWS::IAM::Role'), OPERATOR_ROLE_COMPONENT);
  if (roles.length === 0) {
    return answer(QUESTION, false, [
      `No AWS::IAM::Role tagged ${TAG_COMPONENT}=${OPERATOR_ROLE_COMPONENT} in the assembly (expected in stack Bulkhead-${env}-Ops): there is no operator role whose trust policy could require MFA.`,
    ]);
  }
  const lines: string[] = [];
  let ok = true;
  for (const role of roles) {
    const trust = record(inventory.resolver.resolve(role.stack, role.properties.AssumeRolePolicyDocument));
    const allows = list(trust.Statement)
      .map(record)
      .filter((s) => s.Effect === 'Allow');
    const without = allows.filter((s) => !requiresMfa(s));
    const maxAge = allows.some((s) => JSON.stringify(s.Condition ?? {}).includes('aws:MultiFactorAuthAge'));
    if (allows.length === 0 || without.length > 0) {
      ok = false;
      lines.push(
        `✗ ${role.stack.name}/${role.logicalId}: ${allows.length === 0 ? 'its trust policy allows no one' : `${without.length} of ${allows.length} Allow statement(s) of its trust policy do not require aws:MultiFactorAuthPresent = true (Bool)`}`,
      );
    } else {
      lines.push(
        `${role.stack.name}/${role.logicalId}: all ${allows.length} Allow statement(s) of its trust policy require Bool aws:MultiFactorAuthPresent = true${maxAge ? ', with a maximum MFA age' : ''}`,
      );
    }
  }
  return answer(QUESTION, ok, lines);
}

export { QUESTION as operatorMfaQuestion };
