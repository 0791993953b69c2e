/**
 * The questions of the isolation self-assessment, each answered from what the templates
 * hold (never assumed): the answer is "yes" only when the evidence for it is there for every
 * site, and the evidence says what was found, or what is missing.
 */
import { StackName } from '../../contracts/names';
import { Component, TAG_COMPONENT } from '../../contracts/tag-names';
import { databaseUsersOf } from './database-paths';
import { displayValue, parseToken, type Resolved } from './intrinsics';
import type { Inventory, ResourceEntry, SiteInventory } from './inventory';
import { answerContainerPrivileges, CONTAINER_PRIVILEGES_QUESTION } from './container-privileges';
import { answerEstablishedConnections, ESTABLISHED_CONNECTIONS_QUESTION } from './established-connections';
import { answerEndpointExfiltration, ENDPOINT_EXFILTRATION_QUESTION } from './endpoint-exfiltration';
import { answerRuntimeMonitoring, RUNTIME_MONITORING_QUESTION } from './runtime-monitoring';
import { accessPointsOf } from './storage-paths';
import type { Finding, PathKind, SelfAssessmentAnswer } from './types';
import { PATH_KINDS } from './types';
import { patternMatches } from './wildcards';

/** `bulkhead:component` of the operators' role (in the `Bulkhead-<env>-Ops` stack). */
export const OPERATOR_ROLE_COMPONENT = 'operator-role';

export const QUESTIONS = [
  'Does every site run in its own runtime with its own filesystem?',
  'Does every site have its own database user and schema?',
  'Are writable directories isolated per site?',
  'Do admin (operator) roles require MFA?',
  'Is traffic between client sites blocked?',
  'Do sites get their secrets from a secrets manager?',
  'Is a compromised site quarantined automatically?',
  'Are deploy artifacts immutable?',
  'Are there an incident runbook and an audit trail?',
  'Are time to recover and blast radius tracked?',
  RUNTIME_MONITORING_QUESTION,
  ENDPOINT_EXFILTRATION_QUESTION,
  CONTAINER_PRIVILEGES_QUESTION,
  ESTABLISHED_CONNECTIONS_QUESTION,
] as const;

/** How many per-site lines evidence lists before it summarizes the rest. */
const EVIDENCE_SITE_LINES = 6;

interface SiteCheck {
  readonly ok: boolean;
  readonly line: string;
}

/** One line per failing site (all of them), a few per passing site, then a count. */
function siteEvidence(checks: readonly SiteCheck[]): string[] {
  const failing = checks.filter((c) => !c.ok);
  const passing = checks.filter((c) => c.ok);
  const shown = passing.slice(0, Math.max(0, EVIDENCE_SITE_LINES - failing.length));
  const lines = [...failing.map((c) => `✗ ${c.line}`), ...shown.map((c) => c.line)];
  if (passing.length > shown.length) lines.push(`… and ${passing.length - shown.length} more sites like these`);
  return lines;
}

function list(value: Resolved): Resolved[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function record(value: Resolved): Record<string, Resolved> {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function text(value: Resolved): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

interface Container {
  readonly taskDefinition: ResourceEntry;
  readonly name: string;
  readonly definition: Record<string, Resolved>;
}

function containersOf(inventory: Inventory, taskDefinition: ResourceEntry): Container[] {
  const resolved = inventory.resolver.resolve(taskDefinition.stack, taskDefinition.properties.ContainerDefinitions);
  return list(resolved).map((c) => {
    const definition = record(c);
    return { taskDefinition, name: text(definition.Name) || '?', definition };
  });
}

function ofType(site: SiteInventory, type: string): ResourceEntry[] {
  return site.resources.filter((r) => r.type === type && r.stack.name === site.stack);
}

function taggedAs(entries: readonly ResourceEntry[], component: string): ResourceEntry[] {
  return entries.filter((r) => r.tags[TAG_COMPONENT] === component);
}

function answer(number: number, yes: boolean, evidence: string[]): SelfAssessmentAnswer {
  return { number, question: QUESTIONS[number - 1] as string, answer: yes ? 'yes' : 'no', evidence };
}

function noSites(number: number): SelfAssessmentAnswer {
  return answer(number, false, ['No site stack in the assembly: nothing to assess.']);
}

// 1 -------------------------------------------------------------------------------------
function separateRuntime(inventory: Inventory): SelfAssessmentAnswer {
  const { resolver } = inventory;
  if (inventory.sites.length === 0) return noSites(1);
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
    1,
    checks.every((c) => c.ok),
    siteEvidence(checks),
  );
}

// 2 -------------------------------------------------------------------------------------
function ownDatabaseUser(inventory: Inventory, findings: readonly Finding[]): SelfAssessmentAnswer {
  if (inventory.sites.length === 0) return noSites(2);
  const users = new Map<string, string[]>();
  const schemas = new Map<string, string[]>();
  const perSite = inventory.sites.map((site) => ({ site, list: databaseUsersOf(inventory, site) }));
  for (const { site, list: resources } of perSite) {
    for (const u of resources) {
      if (u.user) users.set(u.user, [...(users.get(u.user) ?? []), site.id]);
      if (u.schema) schemas.set(u.schema, [...(schemas.get(u.schema) ?? []), site.id]);
    }
  }
  const checks = perSite.map(({ site, list: resources }): SiteCheck => {
    const [u] = resources;
    if (resources.length !== 1 || !u) {
      return { ok: false, line: `${site.id}: ${resources.length} database-user resources (expected one)` };
    }
    const problems = [
      ...(u.siteId !== site.id ? [`SiteId is ${u.siteId ?? '(missing)'}`] : []),
      ...(!u.user
        ? ['no User']
        : (users.get(u.user) ?? []).length > 1
          ? [`user ${u.user} is shared with ${(users.get(u.user) ?? []).filter((s) => s !== site.id).join(', ')}`]
          : []),
      ...(!u.schema
        ? ['no Schema']
        : (schemas.get(u.schema) ?? []).length > 1
          ? [
              `schema ${u.schema} is shared with ${(schemas.get(u.schema) ?? []).filter((s) => s !== site.id).join(', ')}`,
            ]
          : []),
    ];
    return problems.length > 0
      ? { ok: false, line: `${site.id}: ${u.entry.logicalId} ${problems.join('; ')}` }
      : {
          ok: true,
          line: `${site.id}: ${u.entry.logicalId} (${u.entry.type}) creates user ${u.user} with schema ${u.schema}`,
        };
  });
  const paths = findings.filter((f) => f.kind === 'database').length;
  const evidence = [
    ...siteEvidence(checks),
    paths === 0
      ? "No database-user resource names another site's user, schema or secret (the provider grants on the escaped schema name only)."
      : `✗ ${paths} database path${paths === 1 ? '' : 's'} in the pair matrix.`,
  ];
  return answer(2, checks.every((c) => c.ok) && paths === 0, evidence);
}

// 3 -------------------------------------------------------------------------------------
function isolatedWritableDirectories(inventory: Inventory, findings: readonly Finding[]): SelfAssessmentAnswer {
  const { resolver } = inventory;
  if (inventory.sites.length === 0) return noSites(3);
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
  return answer(3, checks.every((c) => c.ok) && paths === 0, evidence);
}

// 4 -------------------------------------------------------------------------------------
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
    return answer(4, false, [
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
  return answer(4, ok, lines);
}

// 5 -------------------------------------------------------------------------------------
function noTraffic(inventory: Inventory, findings: readonly Finding[], pairs: number): SelfAssessmentAnswer {
  if (inventory.sites.length === 0) return noSites(5);
  const byKind = (kind: PathKind) => findings.filter((f) => f.kind === kind).length;
  const evidence = [
    `${pairs} ordered pairs of ${inventory.sites.length} sites checked: ${PATH_KINDS.map((k) => `${byKind(k)} ${k}`).join(', ')} paths.`,
    ...findings.slice(0, 5).map((f) => `✗ ${f.kind}: ${f.summary}`),
    ...(findings.length > 5 ? [`… and ${findings.length - 5} more paths (see the findings)`] : []),
  ];
  return answer(5, findings.length === 0, evidence);
}

// 6 -------------------------------------------------------------------------------------
const CREDENTIAL_NAME =
  /pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|salt|(^|_)key$|access[_-]?key/i;
const CREDENTIAL_VALUE = /AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function secretsFromManager(inventory: Inventory): SelfAssessmentAnswer {
  if (inventory.sites.length === 0) return noSites(6);
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
    6,
    checks.every((c) => c.ok),
    siteEvidence(checks),
  );
}

// 7 -------------------------------------------------------------------------------------
function responseStackName(inventory: Inventory): string {
  return StackName.response(inventory.environment ?? '<env>');
}

interface EventRule {
  readonly entry: ResourceEntry;
  readonly pattern: Record<string, Resolved>;
  readonly lambdaTargets: string[];
}

function eventRules(inventory: Inventory, stackName: string): EventRule[] {
  const { resolver } = inventory;
  return inventory
    .ofType('AWS::Events::Rule')
    .filter((r) => r.stack.name === stackName && text(resolver.resolve(r.stack, r.properties.State)) !== 'DISABLED')
    .map((entry) => {
      const raw = resolver.resolve(entry.stack, entry.properties.EventPattern);
      const pattern = typeof raw === 'string' ? (safeJson(raw) as Record<string, Resolved>) : record(raw);
      const lambdaTargets = list(resolver.resolve(entry.stack, entry.properties.Targets))
        .map(record)
        .flatMap((t) => {
          const arn = text(t.Arn);
          // A function's ARN holds the token of the function (its name is known only at deploy time).
          const address = parseToken(arn) ?? parseToken(/⟦[^⟧]+⟧/.exec(arn)?.[0]);
          const target = address && inventory.entry(address.stack, address.logicalId);
          if (target?.type === 'AWS::Lambda::Function') return [target.logicalId];
          return /^arn:aws[a-z-]*:lambda:/.test(arn) ? [displayValue(arn)] : [];
        });
      return { entry, pattern, lambdaTargets };
    });
}

function safeJson(textValue: string): unknown {
  try {
    return JSON.parse(textValue);
  } catch {
    return {};
  }
}

function patternHas(pattern: Record<string, Resolved>, key: string, value: string): boolean {
  return list(pattern[key]).some((v) => v === value);
}

/** Whether an EventBridge string filter (literals, `{prefix}`, `{wildcard}`) takes a value. */
function filterTakes(filter: Resolved, value: string): boolean {
  if (filter === undefined) return true;
  return list(filter).some((f) => {
    if (typeof f === 'string') return f === value;
    const rec = record(f);
    if (typeof rec.prefix === 'string') return value.startsWith(rec.prefix);
    if (typeof rec.suffix === 'string') return value.endsWith(rec.suffix);
    if (typeof rec.wildcard === 'string') return patternMatches(rec.wildcard, value);
    return false;
  });
}

function automaticQuarantine(inventory: Inventory): SelfAssessmentAnswer {
  const stackName = responseStackName(inventory);
  const rules = eventRules(inventory, stackName);
  const guardDuty = rules.filter(
    (r) =>
      patternHas(r.pattern, 'source', 'aws.guardduty') &&
      patternHas(r.pattern, 'detail-type', 'GuardDuty Finding') &&
      r.lambdaTargets.length > 0,
  );
  const alarm = rules.filter(
    (r) =>
      patternHas(r.pattern, 'source', 'aws.cloudwatch') &&
      patternHas(r.pattern, 'detail-type', 'CloudWatch Alarm State Change') &&
      r.lambdaTargets.length > 0,
  );
  const evidence: string[] = [];
  const describeRule = (r: EventRule, what: string) =>
    `${stackName}/${r.entry.logicalId}: ${what} → Lambda ${r.lambdaTargets.join(', ')}`;
  if (!inventory.assembly.stacks.some((s) => s.name === stackName))
    evidence.push(`✗ No stack ${stackName} in the assembly.`);
  evidence.push(
    ...(guardDuty.length > 0
      ? guardDuty.map((r) => describeRule(r, 'aws.guardduty "GuardDuty Finding"'))
      : ['✗ No enabled EventBridge rule for aws.guardduty "GuardDuty Finding" with a Lambda target.']),
  );
  evidence.push(
    ...(alarm.length > 0
      ? alarm.map((r) => describeRule(r, 'aws.cloudwatch "CloudWatch Alarm State Change"'))
      : ['✗ No enabled EventBridge rule for "CloudWatch Alarm State Change" with a Lambda target.']),
  );
  // Every site alarm must be one the alarm rule takes.
  const siteAlarms = inventory.sites.flatMap((site) =>
    site.resources
      .filter((r) => r.type === 'AWS::CloudWatch::Alarm')
      .map((r) => ({ site: site.id, name: inventory.resolver.resolveString(r.stack, r.properties.AlarmName) ?? '' })),
  );
  const taken = siteAlarms.filter((a) =>
    alarm.some((r) => {
      const detail = record(r.pattern.detail);
      const state = record(detail.state);
      return filterTakes(detail.alarmName, a.name) && filterTakes(state.value, 'ALARM');
    }),
  );
  const missed = siteAlarms.filter((a) => !taken.includes(a));
  const sitesWithoutAlarm = inventory.sites.filter((s) => !siteAlarms.some((a) => a.site === s.id));
  if (alarm.length > 0) {
    evidence.push(
      `${taken.length} of ${siteAlarms.length} site alarms match the alarm rule's filter (alarm name and ALARM state).`,
      ...missed.slice(0, 5).map((a) => `✗ ${a.site}: alarm ${a.name || '(no name)'} is not taken by the alarm rule`),
    );
  }
  if (sitesWithoutAlarm.length > 0) {
    evidence.push(
      `✗ Sites without an alarm: ${sitesWithoutAlarm
        .map((s) => s.id)
        .slice(0, 10)
        .join(', ')}`,
    );
  }
  const ok = guardDuty.length > 0 && alarm.length > 0 && missed.length === 0 && sitesWithoutAlarm.length === 0;
  return answer(7, ok, evidence);
}

// 8 -------------------------------------------------------------------------------------
const PINNED = /@sha256:[0-9a-f]{64}$/;

function immutableArtifacts(inventory: Inventory): SelfAssessmentAnswer {
  const siteOfStack = new Map(inventory.sites.map((s) => [s.stack, s.id]));
  const taskDefinitions = inventory.ofType('AWS::ECS::TaskDefinition');
  if (taskDefinitions.length === 0) return answer(8, false, ['No ECS task definition in the assembly.']);
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
  return answer(8, checks.length > 0 && checks.every((c) => c.ok) && mutable.length === 0, evidence);
}

// 9 -------------------------------------------------------------------------------------
function incidentTable(inventory: Inventory, stackName: string): ResourceEntry | undefined {
  const tables = [...inventory.ofType('AWS::DynamoDB::Table'), ...inventory.ofType('AWS::DynamoDB::GlobalTable')];
  return (
    taggedAs(tables, Component.incidents).find((t) => t.stack.name === stackName) ??
    taggedAs(tables, Component.incidents)[0]
  );
}

function runbookAndTrail(inventory: Inventory): SelfAssessmentAnswer {
  const { resolver } = inventory;
  const stackName = responseStackName(inventory);
  const inResponse = (type: string) => inventory.ofType(type).filter((r) => r.stack.name === stackName);
  const machines = inResponse('AWS::StepFunctions::StateMachine');
  const lockedBuckets = inResponse('AWS::S3::Bucket').filter(
    (b) => resolver.resolve(b.stack, b.properties.ObjectLockEnabled) === true,
  );
  const table = incidentTable(inventory, stackName);
  const trails = inventory.ofType('AWS::CloudTrail::Trail');
  const evidence: string[] = [];
  evidence.push(
    ...(machines.length > 0
      ? machines.map((m) => {
          const definition = resolver.resolveString(m.stack, m.properties.DefinitionString) ?? '';
          const states = Object.keys(record(record(safeJson(definition) as Resolved).States));
          return `${stackName}/${m.logicalId}: incident state machine${states.length > 0 ? ` (${states.length} top-level states: ${states.slice(0, 6).join(', ')}${states.length > 6 ? ', …' : ''})` : ''}`;
        })
      : [`✗ No Step Functions state machine in ${stackName}.`]),
  );
  evidence.push(
    ...(lockedBuckets.length > 0
      ? lockedBuckets.map((b) => {
          const config = record(resolver.resolve(b.stack, b.properties.ObjectLockConfiguration));
          const retention = record(record(config.Rule).DefaultRetention);
          const keep = retention.Mode
            ? ` (default retention ${text(retention.Mode)} ${text(retention.Days ?? retention.Years)} ${retention.Days ? 'days' : 'years'})`
            : '';
          return `${stackName}/${b.logicalId}: evidence bucket with S3 Object Lock${keep}`;
        })
      : [`✗ No S3 bucket with Object Lock in ${stackName}.`]),
  );
  evidence.push(
    table
      ? `${table.stack.name}/${table.logicalId}: incident table (DynamoDB${record(resolver.resolve(table.stack, table.properties.PointInTimeRecoverySpecification)).PointInTimeRecoveryEnabled === true ? ', point-in-time recovery' : ''}${resolver.resolve(table.stack, table.properties.DeletionProtectionEnabled) === true ? ', deletion protection' : ''})`
      : `✗ No DynamoDB table tagged ${TAG_COMPONENT}=${Component.incidents}.`,
  );
  evidence.push(
    trails.length > 0
      ? `Ops audit trail: ${trails.map((t) => `${t.stack.name}/${t.logicalId}`).join(', ')} (CloudTrail).`
      : 'Ops audit trail: no CloudTrail trail in the assembly (an account or organization trail may exist outside it; not required here).',
  );
  return answer(9, machines.length > 0 && lockedBuckets.length > 0 && table !== undefined, evidence);
}

// 10 ------------------------------------------------------------------------------------
function recoveryTracked(inventory: Inventory): SelfAssessmentAnswer {
  const { resolver } = inventory;
  const stackName = responseStackName(inventory);
  const table = incidentTable(inventory, stackName);
  const evidence: string[] = [];
  let writers: ResourceEntry[] = [];
  if (table) {
    const ref = resolver.resolveString(table.stack, { Ref: table.logicalId });
    writers = inventory.ofType('AWS::Lambda::Function').filter((f) => {
      const variables = record(record(resolver.resolve(f.stack, f.properties.Environment)).Variables);
      return Object.values(variables).some((v) => v === ref);
    });
    const indexes = list(resolver.resolve(table.stack, table.properties.GlobalSecondaryIndexes)).map((i) =>
      text(record(i).IndexName),
    );
    evidence.push(
      `${table.stack.name}/${table.logicalId}: incident table${indexes.length > 0 ? ` with index ${indexes.join(', ')} (incidents per site: sites affected)` : ''}, written by ${writers.length > 0 ? writers.map((w) => w.logicalId).join(', ') : 'no function'} (the timeline: detected, isolated, evidence kept, restored, from which MTTD, time to isolate and MTTR are computed)`,
    );
  } else {
    evidence.push(`✗ No incident table (DynamoDB, tagged ${TAG_COMPONENT}=${Component.incidents}).`);
  }
  if (table && writers.length === 0)
    evidence.push('✗ No Lambda function is given the incident table (environment variable).');
  const checks = inventory.sites.map((site): SiteCheck => {
    const alarms = site.resources
      .filter((r) => r.type === 'AWS::CloudWatch::Alarm')
      .map((r) => resolver.resolveString(r.stack, r.properties.AlarmName) ?? r.logicalId);
    return alarms.length > 0
      ? {
          ok: true,
          line: `${site.id}: ${alarms.length} alarm${alarms.length === 1 ? '' : 's'} of its own (${alarms.join(', ')})`,
        }
      : { ok: false, line: `${site.id}: no alarm of its own` };
  });
  evidence.push(...siteEvidence(checks));
  const planeAlarms = inventory.ofType('AWS::CloudWatch::Alarm').filter((a) => a.stack.name === stackName);
  if (planeAlarms.length > 0) {
    evidence.push(
      `Response plane alarms: ${planeAlarms.map((a) => resolver.resolveString(a.stack, a.properties.AlarmName) ?? a.logicalId).join(', ')}`,
    );
  }
  const ok = table !== undefined && writers.length > 0 && inventory.sites.length > 0 && checks.every((c) => c.ok);
  return answer(10, ok, evidence);
}

/** Answers the questions; `findings` and `pairs` are the pair matrix's. */
export function answerSelfAssessment(
  inventory: Inventory,
  findings: readonly Finding[],
  pairs: number,
): SelfAssessmentAnswer[] {
  return [
    separateRuntime(inventory),
    ownDatabaseUser(inventory, findings),
    isolatedWritableDirectories(inventory, findings),
    operatorMfa(inventory),
    noTraffic(inventory, findings, pairs),
    secretsFromManager(inventory),
    automaticQuarantine(inventory),
    immutableArtifacts(inventory),
    runbookAndTrail(inventory),
    recoveryTracked(inventory),
    answerRuntimeMonitoring(inventory),
    answerEndpointExfiltration(inventory),
    answerContainerPrivileges(inventory),
    answerEstablishedConnections(inventory),
  ];
}
