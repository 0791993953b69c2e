import type {
  CreateSecretCommandInput,
  CreateSecretCommandOutput,
  DescribeSecretCommandInput,
  DescribeSecretCommandOutput,
  GetRandomPasswordCommandInput,
  GetRandomPasswordCommandOutput,
  GetSecretValueCommandInput,
  GetSecretValueCommandOutput,
  ListSecretVersionIdsCommandInput,
  ListSecretVersionIdsCommandOutput,
  PutSecretValueCommandInput,
  PutSecretValueCommandOutput,
  TagResourceCommandInput,
  TagResourceCommandOutput,
  UntagResourceCommandInput,
  UntagResourceCommandOutput,
  UpdateSecretVersionStageCommandInput,
  UpdateSecretVersionStageCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { type Handler, type Out, ServiceModel } from './service-model';
import { mergeTags, type Tag } from './util/tags';

interface SecretVersion {
  VersionId: string;
  SecretString?: string;
  SecretBinary?: Uint8Array;
  CreatedDate: number;
  LastAccessedDate?: number;
  stages: string[];
}

interface SecretRecord {
  ARN: string;
  Name: string;
  Description?: string;
  KmsKeyId?: string;
  CreatedDate: number;
  LastChangedDate: number;
  LastAccessedDate?: number;
  Tags: Tag[];
  /** Oldest first. */
  versions: SecretVersion[];
}

interface SecretsState {
  secrets: Record<string, SecretRecord>;
}

const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
/** Secrets Manager keeps about 100 versions; older versions without labels are removed. */
const MAX_VERSIONS = 100;

/**
 * Secrets Manager: secrets with versions and staging labels. As documented, a label is on
 * at most one version; moving AWSCURRENT moves AWSPREVIOUS to the version it left; a
 * ClientRequestToken is the version id and makes PutSecretValue idempotent; versions with
 * no label are deprecated (DescribeSecret leaves them out of VersionIdsToStages).
 */
export class SecretsManagerModel extends ServiceModel<SecretsState> {
  readonly service = 'SecretsManager' as const;

  protected initialState(): SecretsState {
    return { secrets: {} };
  }

  handlers(): Record<string, Handler> {
    return {
      CreateSecret: (i: CreateSecretCommandInput) => this.createSecret(i),
      DescribeSecret: (i: DescribeSecretCommandInput) => this.describeSecret(i),
      GetSecretValue: (i: GetSecretValueCommandInput) => this.getSecretValue(i),
      PutSecretValue: (i: PutSecretValueCommandInput) => this.putSecretValue(i),
      UpdateSecretVersionStage: (i: UpdateSecretVersionStageCommandInput) => this.updateSecretVersionStage(i),
      ListSecretVersionIds: (i: ListSecretVersionIdsCommandInput) => this.listSecretVersionIds(i),
      GetRandomPassword: (i: GetRandomPasswordCommandInput) => this.getRandomPassword(i),
      TagResource: (i: TagResourceCommandInput) => this.tagResource(i),
      UntagResource: (i: UntagResourceCommandInput) => this.untagResource(i),
    };
  }

  /** Creates a secret with an AWSCURRENT version (seeding); returns its ARN. */
  seedSecret(options: { name: string; value?: string; tags?: Tag[]; description?: string }): SecretRecord {
    const out = this.createSecret({
      Name: options.name,
      SecretString: options.value,
      Tags: options.tags,
      Description: options.description,
    });
    return this.state.secrets[out.ARN ?? ''] as SecretRecord;
  }

  /** Versions and their labels (no values), for assertions. */
  versionStages(secretId: string): Record<string, string[]> {
    const secret = this.secret(secretId);
    return Object.fromEntries(secret.versions.map((v) => [v.VersionId, [...v.stages]]));
  }

  private secret(id: string | undefined): SecretRecord {
    const key = id ?? '';
    const found =
      this.state.secrets[key] ??
      Object.values(this.state.secrets).find((s) => s.Name === key || s.ARN.slice(0, -7) === key);
    if (!found) return this.fail('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return found;
  }

  private token(token: string | undefined): string {
    if (token === undefined) return this.model.ids.uuid();
    if (token.length < 32 || token.length > 64) {
      this.fail(
        'ValidationException',
        "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32",
      );
    }
    return token;
  }

  private checkValue(input: { SecretString?: string; SecretBinary?: Uint8Array }): void {
    if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
      this.fail(
        'InvalidParameterException',
        "You can't specify both a binary secret value and a string secret value in the same secret.",
      );
    }
    const size =
      input.SecretString !== undefined ? Buffer.byteLength(input.SecretString) : (input.SecretBinary?.length ?? 0);
    if (size > 65536) this.fail('InvalidParameterException', 'The secret value exceeds the 64 KB limit.');
  }

  /** Moves labels onto `version`, applying the AWSCURRENT → AWSPREVIOUS rule. */
  private attachStages(secret: SecretRecord, version: SecretVersion, stages: readonly string[]): void {
    for (const stage of stages) {
      const holder = secret.versions.find((v) => v !== version && v.stages.includes(stage));
      if (holder) {
        holder.stages = holder.stages.filter((s) => s !== stage);
        if (stage === 'AWSCURRENT') {
          for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
          holder.stages.push('AWSPREVIOUS');
        }
      }
      if (!version.stages.includes(stage)) version.stages.push(stage);
    }
  }

  private trimVersions(secret: SecretRecord): void {
    while (secret.versions.length > MAX_VERSIONS) {
      const oldest = secret.versions.findIndex((v) => v.stages.length === 0);
      if (oldest < 0) break;
      secret.versions.splice(oldest, 1);
    }
  }

  private createSecret(input: CreateSecretCommandInput): Out<CreateSecretCommandOutput> {
    const name = input.Name ?? '';
    if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
      this.fail(
        'InvalidParameterException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    if (Object.values(this.state.secrets).some((s) => s.Name === name)) {
      this.fail('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    this.checkValue(input);
    const arn = this.arn(
      'secretsmanager',
      `secret:${name}-${this.model.ids.pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 6)}`,
    );
    const secret: SecretRecord = {
      ARN: arn,
      Name: name,
      Description: input.Description,
      KmsKeyId: input.KmsKeyId,
      CreatedDate: this.now,
      LastChangedDate: this.now,
      Tags: (input.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
      versions: [],
    };
    this.state.secrets[arn] = secret;
    let versionId: string | undefined;
    if (input.SecretString !== undefined || input.SecretBinary !== undefined) {
      versionId = this.token(input.ClientRequestToken);
      secret.versions.push({
        VersionId: versionId,
        SecretString: input.SecretString,
        SecretBinary: input.SecretBinary,
        CreatedDate: this.now,
        stages: ['AWSCURRENT'],
      });
    }
    return { ARN: arn, Name: name, VersionId: versionId };
  }

  private describeSecret(input: DescribeSecretCommandInput): Out<DescribeSecretCommandOutput> {
    const s = this.secret(input.SecretId);
    const labelled = s.versions.filter((v) => v.stages.length > 0);
    return {
      ARN: s.ARN,
      Name: s.Name,
      Description: s.Description,
      KmsKeyId: s.KmsKeyId,
      RotationEnabled: false,
      CreatedDate: new Date(s.CreatedDate),
      LastChangedDate: new Date(s.LastChangedDate),
      LastAccessedDate: s.LastAccessedDate !== undefined ? new Date(s.LastAccessedDate) : undefined,
      Tags: s.Tags.map((t) => ({ ...t })),
      VersionIdsToStages: Object.fromEntries(labelled.map((v) => [v.VersionId, [...v.stages]])),
    };
  }

  private getSecretValue(input: GetSecretValueCommandInput): Out<GetSecretValueCommandOutput> {
    const s = this.secret(input.SecretId);
    let version: SecretVersion | undefined;
    if (input.VersionId !== undefined) {
      version = s.versions.find((v) => v.VersionId === input.VersionId);
      if (!version || (input.VersionStage !== undefined && !version.stages.includes(input.VersionStage))) {
        return this.fail(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${input.VersionId}`,
        );
      }
    } else {
      const stage = input.VersionStage ?? 'AWSCURRENT';
      version = s.versions.find((v) => v.stages.includes(stage));
      if (!version) {
        return this.fail(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
        );
      }
    }
    // LastAccessedDate is kept to the day, as Secrets Manager reports it.
    const day = this.now - (this.now % 86_400_000);
    s.LastAccessedDate = day;
    version.LastAccessedDate = day;
    return {
      ARN: s.ARN,
      Name: s.Name,
      VersionId: version.VersionId,
      SecretString: version.SecretString,
      SecretBinary: version.SecretBinary,
      VersionStages: [...version.stages],
      CreatedDate: new Date(version.CreatedDate),
    };
  }

  private putSecretValue(input: PutSecretValueCommandInput): Out<PutSecretValueCommandOutput> {
    const s = this.secret(input.SecretId);
    if (input.SecretString === undefined && input.SecretBinary === undefined) {
      this.fail('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
    }
    this.checkValue(input);
    const versionId = this.token(input.ClientRequestToken);
    const existing = s.versions.find((v) => v.VersionId === versionId);
    if (existing) {
      const same =
        existing.SecretString === input.SecretString &&
        Buffer.from(existing.SecretBinary ?? []).equals(Buffer.from(input.SecretBinary ?? []));
      if (!same) {
        this.fail(
          'ResourceExistsException',
          "You can't modify an existing version, you can only create a new version.",
        );
      }
      return { ARN: s.ARN, Name: s.Name, VersionId: versionId, VersionStages: [...existing.stages] };
    }
    const version: SecretVersion = {
      VersionId: versionId,
      SecretString: input.SecretString,
      SecretBinary: input.SecretBinary,
      CreatedDate: this.now,
      stages: [],
    };
    s.versions.push(version);
    this.attachStages(s, version, input.VersionStages?.length ? input.VersionStages : ['AWSCURRENT']);
    s.LastChangedDate = this.now;
    this.trimVersions(s);
    return { ARN: s.ARN, Name: s.Name, VersionId: versionId, VersionStages: [...version.stages] };
  }

  /**
   * UpdateSecretVersionStage as documented: a label already on a version must be named in
   * RemoveFromVersionId to move it; with only RemoveFromVersionId the label is removed
   * (never AWSCURRENT); moving AWSCURRENT moves AWSPREVIOUS to the version it left.
   */
  private updateSecretVersionStage(
    input: UpdateSecretVersionStageCommandInput,
  ): Out<UpdateSecretVersionStageCommandOutput> {
    const s = this.secret(input.SecretId);
    const stage = input.VersionStage ?? '';
    if (!stage) this.fail('InvalidParameterException', 'You must specify VersionStage.');
    const holder = s.versions.find((v) => v.stages.includes(stage));
    const target =
      input.MoveToVersionId !== undefined ? s.versions.find((v) => v.VersionId === input.MoveToVersionId) : undefined;
    if (input.MoveToVersionId !== undefined && !target) {
      this.fail(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${input.MoveToVersionId}`,
      );
    }
    if (input.RemoveFromVersionId !== undefined && holder?.VersionId !== input.RemoveFromVersionId) {
      this.fail(
        'InvalidParameterException',
        `The staging label ${stage} is not attached to version ${input.RemoveFromVersionId}.`,
      );
    }
    if (target) {
      if (holder && holder !== target && input.RemoveFromVersionId === undefined) {
        this.fail(
          'InvalidParameterException',
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.VersionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      this.attachStages(s, target, [stage]);
    } else if (input.RemoveFromVersionId !== undefined && holder) {
      if (stage === 'AWSCURRENT') {
        this.fail(
          'InvalidParameterException',
          'You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.',
        );
      }
      holder.stages = holder.stages.filter((x) => x !== stage);
    } else {
      this.fail('InvalidParameterException', 'You must specify MoveToVersionId or RemoveFromVersionId.');
    }
    s.LastChangedDate = this.now;
    return { ARN: s.ARN, Name: s.Name };
  }

  private listSecretVersionIds(input: ListSecretVersionIdsCommandInput): Out<ListSecretVersionIdsCommandOutput> {
    const s = this.secret(input.SecretId);
    return {
      ARN: s.ARN,
      Name: s.Name,
      Versions: s.versions
        .filter((v) => input.IncludeDeprecated || v.stages.length > 0)
        .map((v) => ({
          VersionId: v.VersionId,
          VersionStages: [...v.stages],
          CreatedDate: new Date(v.CreatedDate),
          LastAccessedDate: v.LastAccessedDate !== undefined ? new Date(v.LastAccessedDate) : undefined,
        })),
    };
  }

  /** GetRandomPassword with the documented defaults (32 characters, every type required). */
  private getRandomPassword(input: GetRandomPasswordCommandInput): Out<GetRandomPasswordCommandOutput> {
    const length = input.PasswordLength ?? 32;
    if (length < 1 || length > 4096) {
      this.fail('InvalidParameterException', 'Password length must be between 1 and 4096.');
    }
    const exclude = new Set(input.ExcludeCharacters ?? '');
    const classes = [
      input.ExcludeLowercase ? '' : 'abcdefghijklmnopqrstuvwxyz',
      input.ExcludeUppercase ? '' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      input.ExcludeNumbers ? '' : '0123456789',
      input.ExcludePunctuation ? '' : PUNCTUATION,
      input.IncludeSpace ? ' ' : '',
    ]
      .map((c) => [...c].filter((ch) => !exclude.has(ch)).join(''))
      .filter((c) => c.length > 0);
    const all = classes.join('');
    if (!all) this.fail('InvalidParameterException', 'The password has no characters to choose from.');
    const required = input.RequireEachIncludedType ?? true;
    if (required && classes.length > length) {
      this.fail('InvalidParameterException', 'Password length is too short to include every required character type.');
    }
    const ids = this.model.ids;
    const chars = required ? classes.map((c) => ids.pick(c, 1)) : [];
    while (chars.length < length) chars.push(ids.pick(all, 1));
    for (let i = chars.length - 1; i > 0; i--) {
      const j = Math.floor(ids.random() * (i + 1));
      [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
    }
    return { RandomPassword: chars.join('') };
  }

  private tagResource(input: TagResourceCommandInput): Out<TagResourceCommandOutput> {
    const s = this.secret(input.SecretId);
    const merged = mergeTags(s.Tags, input.Tags ?? []);
    if (merged.length > 50) this.fail('ValidationException', 'The number of tags exceeds the limit of 50.');
    s.Tags = merged;
    return {};
  }

  private untagResource(input: UntagResourceCommandInput): Out<UntagResourceCommandOutput> {
    const s = this.secret(input.SecretId);
    s.Tags = s.Tags.filter((t) => !(input.TagKeys ?? []).includes(t.Key));
    return {};
  }
}
