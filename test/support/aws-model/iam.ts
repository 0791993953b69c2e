import type {
  DeleteRolePolicyCommandInput,
  DeleteRolePolicyCommandOutput,
  GetRoleCommandInput,
  GetRoleCommandOutput,
  GetRolePolicyCommandInput,
  GetRolePolicyCommandOutput,
  ListRolePoliciesCommandInput,
  ListRolePoliciesCommandOutput,
  ListRoleTagsCommandInput,
  ListRoleTagsCommandOutput,
  PutRolePolicyCommandInput,
  PutRolePolicyCommandOutput,
  TagRoleCommandInput,
  TagRoleCommandOutput,
  UntagRoleCommandInput,
  UntagRoleCommandOutput,
} from '@aws-sdk/client-iam';
import { type Handler, type Out, ServiceModel } from './service-model';
import { paginate } from './util/pagination';
import { mergeTags, type Tag } from './util/tags';

interface RoleRecord {
  RoleName: string;
  RoleId: string;
  Arn: string;
  Path: string;
  CreateDate: number;
  AssumeRolePolicyDocument: string;
  Description?: string;
  MaxSessionDuration: number;
  Tags: Tag[];
  /**
   * The role's permissions boundary, as GetRole returns it ("PermissionsBoundary: The ARN of the
   * policy used to set the permissions boundary for the role", IAM API reference, Role).
   */
  PermissionsBoundary?: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy'; PermissionsBoundaryArn: string };
  /** Inline policies by name, documents as given (JSON text). */
  inlinePolicies: Record<string, string>;
}

interface IamState {
  roles: Record<string, RoleRecord>;
}

/** "Role policy size" quota: the aggregate of a role's inline policies, whitespace excluded. */
const INLINE_POLICY_QUOTA = 10_240;

/**
 * IAM encodes policy documents in responses as RFC 3986 percent-encoding ("The policy
 * document returned in this structure is URL-encoded compliant with RFC 3986"); callers
 * must decodeURIComponent them.
 */
export function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * IAM roles: tags and inline policies (the session-revocation deny is an inline policy).
 * Role names are unique case-insensitively, and lookups ignore case, as IAM does.
 */
export class IamModel extends ServiceModel<IamState> {
  readonly service = 'IAM' as const;

  protected initialState(): IamState {
    return { roles: {} };
  }

  handlers(): Record<string, Handler> {
    return {
      GetRole: (i: GetRoleCommandInput) => this.getRole(i),
      ListRoleTags: (i: ListRoleTagsCommandInput) => this.listRoleTags(i),
      TagRole: (i: TagRoleCommandInput) => this.tagRole(i),
      UntagRole: (i: UntagRoleCommandInput) => this.untagRole(i),
      PutRolePolicy: (i: PutRolePolicyCommandInput) => this.putRolePolicy(i),
      GetRolePolicy: (i: GetRolePolicyCommandInput) => this.getRolePolicy(i),
      DeleteRolePolicy: (i: DeleteRolePolicyCommandInput) => this.deleteRolePolicy(i),
      ListRolePolicies: (i: ListRolePoliciesCommandInput) => this.listRolePolicies(i),
    };
  }

  /** Creates a role (seeding). */
  createRole(options: {
    name: string;
    path?: string;
    assumeRolePolicy?: object;
    tags?: Tag[];
    description?: string;
    /** The ARN of the managed policy set as the role's permissions boundary. */
    permissionsBoundary?: string;
  }): RoleRecord {
    const path = options.path ?? '/';
    const role: RoleRecord = {
      RoleName: options.name,
      RoleId: `AROA${this.model.ids.pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 17)}`,
      Arn: this.arn('iam', `role${path}${options.name}`, { global: true }),
      Path: path,
      CreateDate: this.now,
      AssumeRolePolicyDocument: JSON.stringify(
        options.assumeRolePolicy ?? {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
      ),
      Description: options.description,
      MaxSessionDuration: 3600,
      Tags: options.tags ?? [],
      ...(options.permissionsBoundary
        ? {
            PermissionsBoundary: {
              PermissionsBoundaryType: 'PermissionsBoundaryPolicy' as const,
              PermissionsBoundaryArn: options.permissionsBoundary,
            },
          }
        : {}),
      inlinePolicies: {},
    };
    this.state.roles[options.name.toLowerCase()] = role;
    return role;
  }

  /** A role's inline policies, parsed (for assertions). */
  inlinePolicies(roleName: string): Record<string, unknown> {
    const role = this.state.roles[roleName.toLowerCase()];
    return Object.fromEntries(Object.entries(role?.inlinePolicies ?? {}).map(([k, v]) => [k, JSON.parse(v)]));
  }

  private role(name: string | undefined): RoleRecord {
    const role = this.state.roles[(name ?? '').toLowerCase()];
    if (!role) return this.fail('NoSuchEntity', `The role with name ${name} cannot be found.`);
    return role;
  }

  private checkPolicyName(name: string | undefined): string {
    if (!name || !/^[\w+=,.@-]{1,128}$/.test(name)) {
      this.fail(
        'ValidationError',
        `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
      );
    }
    return name;
  }

  private getRole(input: GetRoleCommandInput): Out<GetRoleCommandOutput> {
    const role = this.role(input.RoleName);
    return {
      Role: {
        Path: role.Path,
        RoleName: role.RoleName,
        RoleId: role.RoleId,
        Arn: role.Arn,
        CreateDate: new Date(role.CreateDate),
        AssumeRolePolicyDocument: rfc3986(role.AssumeRolePolicyDocument),
        Description: role.Description,
        MaxSessionDuration: role.MaxSessionDuration,
        Tags: role.Tags.length ? role.Tags.map((t) => ({ ...t })) : undefined,
        ...(role.PermissionsBoundary ? { PermissionsBoundary: { ...role.PermissionsBoundary } } : {}),
        RoleLastUsed: {},
      },
    };
  }

  private listRoleTags(input: ListRoleTagsCommandInput): Out<ListRoleTagsCommandOutput> {
    const role = this.role(input.RoleName);
    const page = paginate(
      role.Tags.map((t) => ({ ...t })),
      input.MaxItems,
      input.Marker,
      100,
    );
    if (!page) return this.fail('InvalidInput', 'Invalid Marker');
    return { Tags: page.items, IsTruncated: page.nextToken !== undefined, Marker: page.nextToken };
  }

  private tagRole(input: TagRoleCommandInput): Out<TagRoleCommandOutput> {
    const role = this.role(input.RoleName);
    for (const tag of input.Tags ?? []) {
      if ((tag.Key ?? '').toLowerCase().startsWith('aws:')) {
        this.fail(
          'InvalidInput',
          'User-defined tag keys can\'t start with "aws:". This prefix is reserved for AWS tags.',
        );
      }
    }
    const merged = mergeTags(role.Tags, input.Tags ?? []);
    if (merged.length > 50) this.fail('LimitExceeded', 'The number of tags has reached the maximum limit.');
    role.Tags = merged;
    return {};
  }

  private untagRole(input: UntagRoleCommandInput): Out<UntagRoleCommandOutput> {
    const role = this.role(input.RoleName);
    role.Tags = role.Tags.filter((t) => !(input.TagKeys ?? []).includes(t.Key));
    return {};
  }

  private putRolePolicy(input: PutRolePolicyCommandInput): Out<PutRolePolicyCommandOutput> {
    const role = this.role(input.RoleName);
    const name = this.checkPolicyName(input.PolicyName);
    const text = input.PolicyDocument ?? '';
    let doc: { Version?: unknown; Statement?: unknown };
    try {
      doc = JSON.parse(text);
    } catch {
      return this.fail('MalformedPolicyDocument', 'This policy contains invalid Json');
    }
    if (typeof doc !== 'object' || doc === null || doc.Statement === undefined) {
      this.fail('MalformedPolicyDocument', 'Syntax errors in policy.');
    }
    if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') {
      this.fail('MalformedPolicyDocument', 'The policy failed legacy parsing');
    }
    const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    for (const s of statements as Array<Record<string, unknown>>) {
      if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
        this.fail('MalformedPolicyDocument', 'Policy statement must contain a valid Effect');
      if (s.Action === undefined && s.NotAction === undefined)
        this.fail('MalformedPolicyDocument', 'Policy statement must contain actions.');
      if (s.Principal !== undefined)
        this.fail('MalformedPolicyDocument', 'Policy document should not specify a principal.');
    }
    const policies = { ...role.inlinePolicies, [name]: text };
    const size = Object.values(policies).reduce((n, p) => n + p.replace(/\s/g, '').length, 0);
    if (size > INLINE_POLICY_QUOTA) {
      this.fail(
        'LimitExceeded',
        `Maximum policy size of ${INLINE_POLICY_QUOTA} bytes exceeded for role ${role.RoleName}`,
      );
    }
    role.inlinePolicies = policies;
    return {};
  }

  private getRolePolicy(input: GetRolePolicyCommandInput): Out<GetRolePolicyCommandOutput> {
    const role = this.role(input.RoleName);
    const doc = role.inlinePolicies[input.PolicyName ?? ''];
    if (doc === undefined) {
      return this.fail('NoSuchEntity', `The role policy with name ${input.PolicyName} cannot be found.`);
    }
    return { RoleName: role.RoleName, PolicyName: input.PolicyName, PolicyDocument: rfc3986(doc) };
  }

  private deleteRolePolicy(input: DeleteRolePolicyCommandInput): Out<DeleteRolePolicyCommandOutput> {
    const role = this.role(input.RoleName);
    if (role.inlinePolicies[input.PolicyName ?? ''] === undefined) {
      this.fail('NoSuchEntity', `The role policy with name ${input.PolicyName} cannot be found.`);
    }
    delete role.inlinePolicies[input.PolicyName ?? ''];
    return {};
  }

  private listRolePolicies(input: ListRolePoliciesCommandInput): Out<ListRolePoliciesCommandOutput> {
    const role = this.role(input.RoleName);
    const page = paginate(Object.keys(role.inlinePolicies), input.MaxItems, input.Marker, 100);
    if (!page) return this.fail('InvalidInput', 'Invalid Marker');
    return { PolicyNames: page.items, IsTruncated: page.nextToken !== undefined, Marker: page.nextToken };
  }
}
