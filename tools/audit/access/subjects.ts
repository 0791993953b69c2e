/**
 * What holds a site's data or controls it, as IAM sees it: each a resource ARN of a resource
 * type of the Service Authorization Reference, its tags, its resource policy, and the sites it
 * holds. A site's own resources hold that site. The platform's hold every site (the database
 * admin secret, the evidence and access-log buckets and their key, log groups, the incident
 * table, site records, the uploads file system without an access point) or every site of a
 * cell (a cell's cluster, load balancer and listener). Platform roles and functions are not
 * subjects for `sts:AssumeRole`, `iam:PassRole` and `lambda:InvokeFunction`: what acting as
 * them reaches is followed as a principal instead (tools/audit/iam-paths.ts).
 *
 * Some actions are authorized against something other than the data they return:
 * - `ssm:GetParametersByPath` "Retrieve information about one or more parameters in a specific
 *   hierarchy" is authorized on the path's ARN: every path above a site's parameter holds it.
 * - `elasticfilesystem:ClientMount` is authorized on the file system, with the access point in
 *   the `elasticfilesystem:AccessPointArn` condition key ("the ARN of the access point used to
 *   mount the file system"): the file system through B's access point holds B's uploads; the
 *   file system without one holds every site's. Mounting needs ClientMount ("Provides
 *   read-only access to a file system"); ClientWrite and ClientRootAccess only add to a mount.
 */
import { TAG_CELL } from '../../../contracts/tag-names';
import { siteLogGroupName, siteSecretNamePrefix } from '../../../contracts/names';
import { displayValue, parseToken, type Resolved } from '../intrinsics';
import type { Inventory, ResourceEntry } from '../inventory';
import { SEGMENT } from '../wildcards';
import { type AccessPoint, accessPointOf, accessPointsOf, sitesSeenBy } from '../storage-paths';
import { generatedNameAliases, type HeldStatement } from './principals';

export interface Subject {
  readonly order: number;
  readonly service: string;
  readonly resourceType: string;
  readonly arn: string;
  readonly aliases: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  /** The sites whose data it holds or that it controls. */
  readonly holds: ReadonlySet<string>;
  /** Whether it is the platform's (not one site's). */
  readonly platform: boolean;
  readonly label: string;
  readonly entry?: ResourceEntry;
  readonly resourcePolicy?: { readonly statements: readonly HeldStatement[]; readonly mustAllow: boolean };
  /** Only these actions (lower case) count on it. */
  readonly only?: readonly string[];
  /** These actions (lower case) do not count on it. */
  readonly except?: readonly string[];
  /** Context keys (lower case) a request about it always carries. */
  readonly context?: Readonly<Record<string, string>>;
  /** Context keys (lower case) a request about it never carries. */
  readonly absent?: readonly string[];
}

/** Actions on platform roles and functions that make the caller act as them: followed as principals. */
export const ACTING_AS = [
  'sts:assumerole',
  'sts:tagsession',
  'sts:setsourceidentity',
  'iam:passrole',
  'lambda:invokefunction',
  'lambda:invokefunctionurl',
  'lambda:invokeasync',
];
const CLIENT_ACTIONS = [
  'elasticfilesystem:clientmount',
  'elasticfilesystem:clientwrite',
  'elasticfilesystem:clientrootaccess',
];

type SubjectInput = Omit<Subject, 'order' | 'holds' | 'platform' | 'aliases' | 'tags'> & {
  readonly aliases?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
};

export class SubjectModel {
  readonly subjects: Subject[] = [];
  private readonly allSites: ReadonlySet<string>;
  private siteAccessPoints: AccessPoint[] | undefined;

  constructor(
    private readonly inventory: Inventory,
    private readonly roleTrust: (entry: ResourceEntry) => readonly HeldStatement[],
  ) {
    this.allSites = new Set(inventory.sites.map((s) => s.id));
    // The contract's names first: a finding lists what it names of a site in this order.
    for (const site of inventory.sites)
      this.addContractNames(site.id, site.environment, site.stackEntry.region, site.stackEntry.account, 'secrets');
    for (const entry of inventory.resources) this.addResource(entry);
    for (const site of inventory.sites)
      this.addContractNames(site.id, site.environment, site.stackEntry.region, site.stackEntry.account, 'logs');
  }

  private region(entry: ResourceEntry): string {
    return entry.stack.region ?? SEGMENT;
  }

  private account(entry: ResourceEntry): string {
    return entry.stack.account ?? SEGMENT;
  }

  private arn(entry: ResourceEntry, service: string, resource: string): string {
    return `arn:aws:${service}:${this.region(entry)}:${this.account(entry)}:${resource}`;
  }

  /** The sites a platform resource holds: those of its cell when it has one, else all. */
  private platformHolds(entry: ResourceEntry): ReadonlySet<string> {
    const cell = entry.tags[TAG_CELL];
    if (!cell) return this.allSites;
    return new Set(this.inventory.sites.filter((s) => s.cell === cell).map((s) => s.id));
  }

  private add(entry: ResourceEntry | undefined, input: SubjectInput, holds?: ReadonlySet<string>): void {
    const owner = entry ? this.inventory.siteOf(entry.token) : undefined;
    const held = holds ?? (owner ? new Set([owner]) : entry ? this.platformHolds(entry) : this.allSites);
    if (held.size === 0) return;
    this.subjects.push({
      ...input,
      aliases: input.aliases ?? [],
      tags: input.tags ?? entry?.tags ?? {},
      order: this.subjects.length,
      holds: held,
      platform: owner === undefined && holds === undefined,
      ...(entry ? { entry } : {}),
    });
  }

  private resolveString(entry: ResourceEntry, value: unknown): string | undefined {
    return this.inventory.resolver.resolveString(entry.stack, value);
  }

  private ref(entry: ResourceEntry): string {
    return this.resolveString(entry, { Ref: entry.logicalId }) ?? entry.token;
  }

  private getAtt(entry: ResourceEntry, attribute: string): string | undefined {
    return this.resolveString(entry, { 'Fn::GetAtt': [entry.logicalId, attribute] });
  }

  private who(entry: ResourceEntry): string {
    const owner = this.inventory.siteOf(entry.token);
    return owner ? '' : 'platform ';
  }

  /** Statements of the policy resources (bucket, secret, queue …) whose target resolves to `target`. */
  private policiesNaming(type: string, property: string, targets: readonly (string | undefined)[]): HeldStatement[] {
    const out: HeldStatement[] = [];
    for (const p of this.inventory.ofType(type)) {
      const target = this.resolveString(p, p.properties[property]);
      if (target === undefined || !targets.includes(target)) continue;
      const raw = this.inventory.resolver.resolve(p.stack, p.properties.PolicyDocument ?? p.properties.ResourcePolicy);
      const document = (typeof raw === 'string' ? safeJson(raw) : raw) as { Statement?: Resolved } | undefined;
      const statements = Array.isArray(document?.Statement)
        ? document.Statement
        : document?.Statement
          ? [document.Statement]
          : [];
      statements.forEach((statement, index) => {
        if (statement && typeof statement === 'object') {
          out.push({
            statement: statement as never,
            stack: p.stack.name,
            logicalId: p.logicalId,
            policyName: 'resource policy',
            index,
          });
        }
      });
    }
    return out;
  }

  private addResource(entry: ResourceEntry): void {
    switch (entry.type) {
      case 'AWS::SecretsManager::Secret':
        return this.secret(entry);
      case 'AWS::Logs::LogGroup':
        return this.logGroup(entry);
      case 'AWS::EFS::AccessPoint':
        return this.accessPoint(entry);
      case 'AWS::EFS::FileSystem':
        return this.fileSystem(entry);
      case 'AWS::S3::Bucket':
        return this.bucket(entry);
      case 'AWS::IAM::Role':
        return this.role(entry);
      case 'AWS::SSM::Parameter':
        return this.parameter(entry);
      case 'AWS::ECS::Service':
        return this.service(entry);
      case 'AWS::ECS::TaskDefinition':
        return this.taskDefinition(entry);
      case 'AWS::KMS::Key':
        return this.key(entry);
      case 'AWS::Lambda::Function':
        return this.lambdaFunction(entry);
      default: {
        const simple = SIMPLE[entry.type];
        if (simple) this.simple(entry, simple);
      }
    }
  }

  private secret(entry: ResourceEntry): void {
    const ref = this.ref(entry);
    const arn = ref.replace(/-\?{6}$/, `-${SEGMENT}`);
    const name = this.resolveString(entry, entry.properties.Name) ?? entry.logicalId;
    this.add(entry, {
      service: 'secretsmanager',
      resourceType: 'secret',
      arn,
      aliases: generatedNameAliases(arn, entry),
      label: `${this.who(entry)}secret ${displayValue(name)}`,
      resourcePolicy: {
        statements: this.policiesNaming('AWS::SecretsManager::ResourcePolicy', 'SecretId', [
          ref,
          this.resolveString(entry, { Ref: entry.logicalId }),
        ]),
        mustAllow: false,
      },
    });
  }

  private logGroup(entry: ResourceEntry, name: string = this.ref(entry)): void {
    const group = this.arn(entry, 'logs', `log-group:${name}`);
    const aliases = generatedNameAliases(group, entry);
    const label = `${entry ? this.who(entry) : ''}log group ${displayValue(name)}`;
    this.add(entry, {
      service: 'logs',
      resourceType: 'log-group',
      arn: group,
      aliases: [`${group}:*`, ...aliases],
      label,
    });
    this.add(entry, {
      service: 'logs',
      resourceType: 'log-stream',
      arn: `${group}:log-stream:${SEGMENT}`,
      aliases: aliases.map((a) => `${a}:log-stream:${SEGMENT}`),
      label: `${label} (its streams)`,
    });
  }

  private accessPoint(entry: ResourceEntry): void {
    const arn = this.getAtt(entry, 'Arn') ?? entry.token;
    const fileSystem = this.fileSystemOf(entry);
    const owner = this.inventory.siteOf(entry.token);
    const holds = owner ? undefined : this.sitesUnder(entry);
    this.add(
      entry,
      {
        service: 'elasticfilesystem',
        resourceType: 'access-point',
        arn,
        label: `${this.who(entry)}access point ${entry.logicalId}`,
      },
      holds,
    );
    if (!fileSystem) return;
    this.add(
      entry,
      {
        service: 'elasticfilesystem',
        resourceType: 'file-system',
        arn: fileSystem.arn,
        label: `${owner ? '' : 'platform '}uploads file system through access point ${entry.logicalId}`,
        only: ['elasticfilesystem:clientmount'],
        context: { 'elasticfilesystem:accesspointarn': arn, 'elasticfilesystem:accessedviamounttarget': 'true' },
        tags: fileSystem.entry?.tags ?? {},
        ...(fileSystem.entry
          ? { resourcePolicy: { statements: this.fileSystemPolicy(fileSystem.entry), mustAllow: false } }
          : {}),
      },
      holds,
    );
  }

  /** A platform access point holds the sites whose directories it can see, or whose POSIX user it is. */
  private sitesUnder(entry: ResourceEntry): ReadonlySet<string> {
    const point = accessPointOf(this.inventory, entry, '');
    this.siteAccessPoints ??= this.inventory.sites.flatMap((s) => accessPointsOf(this.inventory, s));
    return sitesSeenBy(point, this.siteAccessPoints);
  }

  private fileSystemOf(entry: ResourceEntry): { arn: string; entry?: ResourceEntry } | undefined {
    const id = this.resolveString(entry, entry.properties.FileSystemId);
    if (!id) return undefined;
    const address = parseToken(id);
    const fs = address ? this.inventory.entry(address.stack, address.logicalId) : undefined;
    if (fs) return { arn: this.getAtt(fs, 'Arn') ?? fs.token, entry: fs };
    return { arn: this.arn(entry, 'elasticfilesystem', `file-system/${id}`) };
  }

  private fileSystemPolicy(fs: ResourceEntry): HeldStatement[] {
    const raw = this.inventory.resolver.resolve(fs.stack, fs.properties.FileSystemPolicy) as
      { Statement?: Resolved } | undefined;
    const statements = Array.isArray(raw?.Statement) ? raw.Statement : [];
    return statements.map((statement, index) => ({
      statement: statement as never,
      stack: fs.stack.name,
      logicalId: fs.logicalId,
      policyName: 'file system policy',
      index,
    }));
  }

  private fileSystem(entry: ResourceEntry): void {
    const arn = this.getAtt(entry, 'Arn') ?? entry.token;
    const resourcePolicy = { statements: this.fileSystemPolicy(entry), mustAllow: false };
    const holds = this.inventory.siteOf(entry.token) ? undefined : this.allSites;
    // Mounted without an access point: the whole file system, every site's directory.
    this.add(
      entry,
      {
        service: 'elasticfilesystem',
        resourceType: 'file-system',
        arn,
        label: 'uploads file system without an access point',
        only: ['elasticfilesystem:clientmount'],
        context: { 'elasticfilesystem:accessedviamounttarget': 'true' },
        absent: ['elasticfilesystem:accesspointarn'],
        resourcePolicy,
      },
      holds,
    );
    this.add(
      entry,
      {
        service: 'elasticfilesystem',
        resourceType: 'file-system',
        arn,
        label: 'uploads file system (its configuration and policy)',
        except: CLIENT_ACTIONS,
        resourcePolicy,
      },
      holds,
    );
  }

  private bucket(entry: ResourceEntry): void {
    const name = this.ref(entry);
    const bucket = `arn:aws:s3:::${name}`;
    const aliases = generatedNameAliases(bucket, entry, true);
    const resourcePolicy = {
      statements: this.policiesNaming('AWS::S3::BucketPolicy', 'Bucket', [name]),
      mustAllow: false,
    };
    const label = `${this.who(entry)}bucket ${displayValue(name)}`;
    this.add(entry, { service: 's3', resourceType: 'bucket', arn: bucket, aliases, label, resourcePolicy });
    this.add(entry, {
      service: 's3',
      resourceType: 'object',
      arn: `${bucket}/${SEGMENT}`,
      aliases: aliases.map((a) => `${a}/${SEGMENT}`),
      label: `objects of ${label}`,
      resourcePolicy,
    });
  }

  private role(entry: ResourceEntry): void {
    const arn = this.getAtt(entry, 'Arn') ?? entry.token;
    const owner = this.inventory.siteOf(entry.token);
    this.add(entry, {
      service: owner ? 'sts' : 'iam',
      resourceType: 'role',
      arn,
      aliases: entry.properties.RoleName === undefined ? generatedNameAliases(arn, entry) : [],
      label: `${this.who(entry)}role ${entry.logicalId}${entry.tags['bulkhead:component'] ? ` (${entry.tags['bulkhead:component']})` : ''}`,
      ...(owner ? { resourcePolicy: { statements: this.roleTrust(entry), mustAllow: true } } : { except: ACTING_AS }),
    });
    // IAM actions on the role (PutRolePolicy, UpdateAssumeRolePolicy …); sts: above for a site's role.
    if (owner) {
      this.add(entry, {
        service: 'iam',
        resourceType: 'role',
        arn,
        aliases: entry.properties.RoleName === undefined ? generatedNameAliases(arn, entry) : [],
        label: `role ${entry.logicalId}${entry.tags['bulkhead:component'] ? ` (${entry.tags['bulkhead:component']})` : ''}`,
      });
    }
  }

  private parameter(entry: ResourceEntry): void {
    const name = this.ref(entry);
    const path = name.startsWith('/') ? name : `/${name}`;
    const arn = this.arn(entry, 'ssm', `parameter${path}`);
    this.add(entry, {
      service: 'ssm',
      resourceType: 'parameter',
      arn,
      label: `${this.who(entry)}parameter ${displayValue(name)}`,
      except: ['ssm:getparametersbypath'],
    });
    const parts = path.split('/').filter(Boolean);
    for (let i = parts.length - 1; i >= 1; i--) {
      const above = `/${parts.slice(0, i).join('/')}`;
      this.add(entry, {
        service: 'ssm',
        resourceType: 'parameter',
        arn: this.arn(entry, 'ssm', `parameter${above}`),
        label: `parameter path ${above} (GetParametersByPath returns ${displayValue(name)})`,
        only: ['ssm:getparametersbypath'],
      });
    }
  }

  private service(entry: ResourceEntry): void {
    const cluster = this.resolveString(entry, entry.properties.Cluster) ?? SEGMENT;
    const clusterName = cluster.startsWith('arn:') ? cluster.replace(/^.*:cluster\//, '') : cluster;
    const clusterArn = this.arn(entry, 'ecs', `cluster/${clusterName}`);
    const name = this.resolveString(entry, entry.properties.ServiceName) ?? SEGMENT;
    const context = { 'ecs:cluster': clusterArn };
    this.add(entry, {
      service: 'ecs',
      resourceType: 'service',
      arn: this.arn(entry, 'ecs', `service/${clusterName}/${name}`),
      label: `${this.who(entry)}ECS service ${displayValue(name)}`,
      context,
    });
    // "PropagateTags: Specifies whether to propagate the tags from the task definition or the service to the task."
    const propagate = this.resolveString(entry, entry.properties.PropagateTags);
    const definition = parseToken(this.resolveString(entry, entry.properties.TaskDefinition));
    const tdEntry = definition ? this.inventory.entry(definition.stack, definition.logicalId) : undefined;
    const tags = propagate === 'SERVICE' ? entry.tags : propagate === 'TASK_DEFINITION' ? (tdEntry?.tags ?? {}) : {};
    this.add(entry, {
      service: 'ecs',
      resourceType: 'task',
      arn: this.arn(entry, 'ecs', `task/${clusterName}/${SEGMENT}`),
      label: `${this.who(entry)}tasks of ECS service ${displayValue(name)}`,
      tags,
      context,
    });
  }

  private taskDefinition(entry: ResourceEntry): void {
    const family = this.resolveString(entry, entry.properties.Family) ?? SEGMENT;
    this.add(entry, {
      service: 'ecs',
      resourceType: 'task-definition',
      arn: this.arn(entry, 'ecs', `task-definition/${family}:${SEGMENT}`),
      aliases: [entry.token],
      label: `${this.who(entry)}task definition ${displayValue(family)}`,
    });
  }

  /** A type whose `Ref` is its name or its ARN, and whose ARN is built from it. */
  private simple(entry: ResourceEntry, kind: SimpleKind): void {
    const ref = this.ref(entry);
    const arn = ref.startsWith('arn:') ? ref : kind.resource ? this.arn(entry, kind.service, kind.resource(ref)) : ref;
    const aliases = [...generatedNameAliases(arn, entry), ...(arn === entry.token ? [] : [entry.token])];
    this.add(entry, {
      service: kind.service,
      resourceType: kind.resourceType,
      arn,
      aliases,
      label: `${this.who(entry)}${kind.what} ${entry.logicalId}`,
    });
  }

  private key(entry: ResourceEntry): void {
    const arn = this.getAtt(entry, 'Arn') ?? entry.token;
    const raw = this.inventory.resolver.resolve(entry.stack, entry.properties.KeyPolicy) as
      { Statement?: Resolved } | undefined;
    const statements = (Array.isArray(raw?.Statement) ? raw.Statement : []).map((statement, index) => ({
      statement: statement as never,
      stack: entry.stack.name,
      logicalId: entry.logicalId,
      policyName: 'key policy',
      index,
    }));
    this.add(entry, {
      service: 'kms',
      resourceType: 'key',
      arn,
      label: `${this.who(entry)}KMS key ${entry.logicalId}`,
      resourcePolicy: { statements, mustAllow: true },
    });
  }

  private lambdaFunction(entry: ResourceEntry): void {
    const arn = this.getAtt(entry, 'Arn') ?? entry.token;
    const owner = this.inventory.siteOf(entry.token);
    this.add(entry, {
      service: 'lambda',
      resourceType: 'function',
      arn,
      aliases: [`${arn}:*`, ...(entry.properties.FunctionName === undefined ? generatedNameAliases(arn, entry) : [])],
      label: `${this.who(entry)}function ${entry.logicalId}`,
      ...(owner ? {} : { except: ACTING_AS }),
    });
  }

  /** What the contract names after a site even before it exists: its secrets and log group. */
  private addContractNames(
    site: string,
    env: string | undefined,
    region: string | undefined,
    account: string | undefined,
    which: 'secrets' | 'logs',
  ): void {
    if (!env) return;
    const holds = new Set([site]);
    const arn = (service: string, resource: string) =>
      `arn:aws:${service}:${region ?? SEGMENT}:${account ?? SEGMENT}:${resource}`;
    if (which === 'secrets') {
      this.add(
        undefined,
        {
          service: 'secretsmanager',
          resourceType: 'secret',
          arn: arn('secretsmanager', `secret:${siteSecretNamePrefix(env)}${site}/${SEGMENT}`),
          label: `secrets under ${siteSecretNamePrefix(env)}${site}/`,
        },
        holds,
      );
      return;
    }
    // A site's log group is `/bulkhead/<env>/sites/<id>/<stack instance>` (contracts/names.ts):
    // the instance part is unknown until deploy, so it is one unknown segment here.
    const group = arn('logs', `log-group:${siteLogGroupName(env, site)}/${SEGMENT}`);
    if (!this.subjects.some((s) => s.arn === group)) {
      this.add(
        undefined,
        {
          service: 'logs',
          resourceType: 'log-group',
          arn: group,
          aliases: [`${group}:*`],
          label: `log group ${siteLogGroupName(env, site)}/…`,
        },
        holds,
      );
      this.add(
        undefined,
        {
          service: 'logs',
          resourceType: 'log-stream',
          arn: `${group}:log-stream:${SEGMENT}`,
          label: `log group ${siteLogGroupName(env, site)}/… (its streams)`,
        },
        holds,
      );
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface SimpleKind {
  readonly service: string;
  readonly resourceType: string;
  /** The resource part of the ARN from `Ref`, when `Ref` does not return the ARN itself. */
  readonly resource?: (ref: string) => string;
  readonly what: string;
}

/** Types whose `Ref` is enough to name them (the CloudFormation reference of each type's return values). */
const SIMPLE: Readonly<Record<string, SimpleKind>> = {
  'AWS::EC2::SecurityGroup': {
    service: 'ec2',
    resourceType: 'security-group',
    resource: (id) => `security-group/${id}`,
    what: 'security group',
  },
  'AWS::ElasticLoadBalancingV2::TargetGroup': {
    service: 'elasticloadbalancing',
    resourceType: 'targetgroup',
    what: 'target group',
  },
  'AWS::ElasticLoadBalancingV2::ListenerRule': {
    service: 'elasticloadbalancing',
    resourceType: 'listener-rule/app',
    what: 'listener rule',
  },
  'AWS::ElasticLoadBalancingV2::Listener': {
    service: 'elasticloadbalancing',
    resourceType: 'listener/app',
    what: 'listener',
  },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': {
    service: 'elasticloadbalancing',
    resourceType: 'loadbalancer/app/',
    what: 'load balancer',
  },
  'AWS::ECS::Cluster': {
    service: 'ecs',
    resourceType: 'cluster',
    resource: (name) => `cluster/${name}`,
    what: 'ECS cluster',
  },
  'AWS::DynamoDB::Table': {
    service: 'dynamodb',
    resourceType: 'table',
    resource: (name) => `table/${name}`,
    what: 'table',
  },
  'AWS::CloudWatch::Alarm': {
    service: 'cloudwatch',
    resourceType: 'alarm',
    resource: (name) => `alarm:${name}`,
    what: 'alarm',
  },
  'AWS::StepFunctions::StateMachine': { service: 'states', resourceType: 'statemachine', what: 'state machine' },
};
