/**
 * What the self-assessment's questions share: reading resolved template values, a site's
 * own resources, evidence lines, and the answer's shape.
 */
import { StackName } from '../../../contracts/names';
import { Component, TAG_COMPONENT } from '../../../contracts/tag-names';
import type { Resolved } from '../intrinsics';
import type { Inventory, ResourceEntry, SiteInventory } from '../inventory';
import type { AuditQuestion } from './question';
import type { SelfAssessmentAnswer } from '../types';

/** How many per-site lines evidence lists before it summarizes the rest. */
const EVIDENCE_SITE_LINES = 6;

export interface SiteCheck {
  readonly ok: boolean;
  readonly line: string;
}

/** One line per failing site (all of them), a few per passing site, then a count. */
export function siteEvidence(checks: readonly SiteCheck[]): string[] {
  const failing = checks.filter((c) => !c.ok);
  const passing = checks.filter((c) => c.ok);
  const shown = passing.slice(0, Math.max(0, EVIDENCE_SITE_LINES - failing.length));
  const lines = [...failing.map((c) => `✗ ${c.line}`), ...shown.map((c) => c.line)];
  if (passing.length > shown.length) lines.push(`… and ${passing.length - shown.length} more sites like these`);
  return lines;
}

export function list(value: Resolved): Resolved[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

export function record(value: Resolved): Record<string, Resolved> {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

export function text(value: Resolved): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

export interface Container {
  readonly taskDefinition: ResourceEntry;
  readonly name: string;
  readonly definition: Record<string, Resolved>;
}

export function containersOf(inventory: Inventory, taskDefinition: ResourceEntry): Container[] {
  const resolved = inventory.resolver.resolve(taskDefinition.stack, taskDefinition.properties.ContainerDefinitions);
  return list(resolved).map((c) => {
    const definition = record(c);
    return { taskDefinition, name: text(definition.Name) || '?', definition };
  });
}

export function ofType(site: SiteInventory, type: string): ResourceEntry[] {
  return site.resources.filter((r) => r.type === type && r.stack.name === site.stack);
}

export function taggedAs(entries: readonly ResourceEntry[], component: string): ResourceEntry[] {
  return entries.filter((r) => r.tags[TAG_COMPONENT] === component);
}

/** The question's answer: `yes` when `yes`, with its evidence. */
export function answer(question: AuditQuestion, yes: boolean, evidence: string[]): SelfAssessmentAnswer {
  return { number: question.number, question: question.text, answer: yes ? 'yes' : 'no', evidence };
}

export function noSites(question: AuditQuestion): SelfAssessmentAnswer {
  return answer(question, false, ['No site stack in the assembly: nothing to assess.']);
}

export function responseStackName(inventory: Inventory): string {
  return StackName.response(inventory.environment ?? '<env>');
}

export function safeJson(textValue: string): unknown {
  try {
    return JSON.parse(textValue);
  } catch {
    return {};
  }
}

export function incidentTable(inventory: Inventory, stackName: string): ResourceEntry | undefined {
  const tables = [...inventory.ofType('AWS::DynamoDB::Table'), ...inventory.ofType('AWS::DynamoDB::GlobalTable')];
  return (
    taggedAs(tables, Component.incidents).find((t) => t.stack.name === stackName) ??
    taggedAs(tables, Component.incidents)[0]
  );
}
