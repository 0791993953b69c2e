/**
 * Self-assessment question 13: "Do site containers run without root and extra capabilities?"
 * (issue 15, item 5), answered from each site's task definitions. `yes` when every container of
 * every site:
 *
 * - has `User` set to a numeric uid (or uid:gid) other than 0: without it the image's own user
 *   applies, usually root; a name means whatever the image's /etc/passwd says ("If specifying a UID
 *   or GID, you must specify it as a positive integer": ECS API reference, ContainerDefinition
 *   `user`);
 * - drops `ALL` Linux capabilities and adds none (`LinuxParameters.Capabilities`: "drop: The Linux
 *   capabilities for the container that have been removed from the default configuration provided
 *   by Docker"; "Tasks launched on Fargate only support adding the SYS_PTRACE kernel capability");
 * - is not `Privileged`.
 *
 * Whether an init process runs (`InitProcessEnabled`) is shown as evidence.
 */
import { displayValue, type Resolved } from '../intrinsics';
import type { Inventory, ResourceEntry, SiteInventory } from '../inventory';
import type { SelfAssessmentAnswer } from '../types';
import type { AuditQuestion } from './question';

export const CONTAINER_PRIVILEGES_QUESTION = 'Do site containers run without root and extra capabilities?';
export const CONTAINER_PRIVILEGES_NUMBER = 13;

function list(value: Resolved): Resolved[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function record(value: Resolved): Record<string, Resolved> {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/** A non-zero numeric uid, optionally with a non-zero numeric gid. */
function nonRootUser(user: Resolved): boolean {
  if (typeof user !== 'string' && typeof user !== 'number') return false;
  const match = /^(\d+)(?::(\d+))?$/.exec(String(user));
  if (!match) return false;
  const [, uid, gid] = match;
  return Number(uid) > 0 && (gid === undefined || Number(gid) > 0);
}

function taskDefinitionsOf(site: SiteInventory): ResourceEntry[] {
  return site.resources.filter((r) => r.type === 'AWS::ECS::TaskDefinition' && r.stack.name === site.stack);
}

export function answerContainerPrivileges(inventory: Inventory): SelfAssessmentAnswer {
  const failing: string[] = [];
  const passing: string[] = [];
  for (const site of inventory.sites) {
    const problems: string[] = [];
    const good: string[] = [];
    const definitions = taskDefinitionsOf(site);
    if (definitions.length === 0) problems.push('no task definition');
    for (const td of definitions) {
      for (const raw of list(inventory.resolver.resolve(td.stack, td.properties.ContainerDefinitions))) {
        const c = record(raw);
        const name = typeof c.Name === 'string' ? c.Name : '?';
        const linux = record(c.LinuxParameters);
        const capabilities = record(linux.Capabilities);
        const drop = list(capabilities.Drop).map((v) => String(v).toUpperCase());
        const add = list(capabilities.Add).map((v) => String(v));
        const mine = [
          ...(nonRootUser(c.User)
            ? []
            : [
                c.User === undefined
                  ? `container ${name} sets no User (the image's user, usually root)`
                  : `container ${name} runs as ${displayValue(c.User)} (not a non-zero numeric uid)`,
              ]),
          ...(drop.includes('ALL') ? [] : [`container ${name} does not drop ALL capabilities`]),
          ...(add.length > 0 ? [`container ${name} adds ${add.join(', ')}`] : []),
          ...(c.Privileged === true ? [`container ${name} is privileged`] : []),
        ];
        problems.push(...mine);
        if (mine.length === 0) {
          good.push(
            `container ${name} runs as ${String(c.User)}, drops ALL capabilities${linux.InitProcessEnabled === true ? ', with an init process' : ' (no init process)'}`,
          );
        }
      }
    }
    if (problems.length > 0) failing.push(`✗ ${site.id}: ${problems.join('; ')}`);
    else passing.push(`${site.id}: ${good.join('; ')}`);
  }
  const shown = passing.slice(0, Math.max(0, 6 - failing.length));
  const evidence = [
    ...failing,
    ...shown,
    ...(passing.length > shown.length ? [`… and ${passing.length - shown.length} more sites like these`] : []),
  ];
  const yes = inventory.sites.length > 0 && failing.length === 0;
  return {
    number: CONTAINER_PRIVILEGES_NUMBER,
    question: CONTAINER_PRIVILEGES_QUESTION,
    answer: yes ? 'yes' : 'no',
    evidence: inventory.sites.length === 0 ? ['No site stack in the assembly: nothing to assess.'] : evidence,
  };
}

export const containerPrivilegesQuestion: AuditQuestion = {
  number: CONTAINER_PRIVILEGES_NUMBER,
  text: CONTAINER_PRIVILEGES_QUESTION,
  answer: ({ inventory }) => answerContainerPrivileges(inventory),
};
