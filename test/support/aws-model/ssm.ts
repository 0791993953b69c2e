import type {
  GetParameterCommandInput,
  GetParameterCommandOutput,
  GetParametersByPathCommandInput,
  GetParametersByPathCommandOutput,
  GetParametersCommandInput,
  GetParametersCommandOutput,
  Parameter,
  PutParameterCommandInput,
  PutParameterCommandOutput,
} from '@aws-sdk/client-ssm';
import { type Handler, type Out, ServiceModel } from './service-model';
import { paginate } from './util/pagination';
import type { Tag } from './util/tags';

interface ParameterRecord {
  Name: string;
  Type: 'String' | 'StringList' | 'SecureString';
  Value: string;
  Version: number;
  LastModifiedDate: number;
  Tags: Tag[];
}

interface SsmState {
  parameters: Record<string, ParameterRecord>;
}

/**
 * Systems Manager Parameter Store (the site records): GetParameter (`ParameterNotFound`),
 * GetParameters (unknown names in `InvalidParameters`), GetParametersByPath (10 per page,
 * `Recursive`), PutParameter (`ParameterAlreadyExists` without `Overwrite`, versions).
 */
export class SsmModel extends ServiceModel<SsmState> {
  readonly service = 'SSM' as const;

  protected initialState(): SsmState {
    return { parameters: {} };
  }

  handlers(): Record<string, Handler> {
    return {
      GetParameter: (i: GetParameterCommandInput) => this.getParameter(i),
      GetParameters: (i: GetParametersCommandInput) => this.getParameters(i),
      GetParametersByPath: (i: GetParametersByPathCommandInput) => this.getParametersByPath(i),
      PutParameter: (i: PutParameterCommandInput) => this.putParameterCommand(i),
    };
  }

  /** Writes a parameter (seeding), creating or overwriting it; alias of {@link SsmModel.seedParameter}. */
  putParameter(name: string, value: string, tags: Tag[] = []): void {
    this.seedParameter(name, value, tags);
  }

  /** Writes a parameter (seeding), creating or overwriting it. */
  seedParameter(name: string, value: string, tags: Tag[] = []): void {
    const existing = this.state.parameters[name];
    this.state.parameters[name] = {
      Name: name,
      Type: 'String',
      Value: value,
      Version: (existing?.Version ?? 0) + 1,
      LastModifiedDate: this.now,
      Tags: tags,
    };
  }

  private toParameter(p: ParameterRecord): Parameter {
    return {
      Name: p.Name,
      Type: p.Type,
      Value: p.Value,
      Version: p.Version,
      LastModifiedDate: new Date(p.LastModifiedDate),
      ARN: this.arn('ssm', `parameter/${p.Name.replace(/^\//, '')}`),
      DataType: 'text',
    };
  }

  private getParameter(input: GetParameterCommandInput): Out<GetParameterCommandOutput> {
    const p = this.state.parameters[input.Name ?? ''];
    if (!p) return this.fail('ParameterNotFound', `Parameter ${input.Name} not found.`);
    return { Parameter: this.toParameter(p) };
  }

  private getParameters(input: GetParametersCommandInput): Out<GetParametersCommandOutput> {
    const names = input.Names ?? [];
    if (names.length < 1 || names.length > 10) {
      this.fail(
        'ValidationException',
        "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10",
      );
    }
    const found = names.flatMap((n) => {
      const p = this.state.parameters[n];
      return p ? [this.toParameter(p)] : [];
    });
    return { Parameters: found, InvalidParameters: names.filter((n) => !this.state.parameters[n]) };
  }

  private getParametersByPath(input: GetParametersByPathCommandInput): Out<GetParametersByPathCommandOutput> {
    const path = input.Path ?? '';
    if (!path.startsWith('/')) this.fail('ValidationException', 'The parameter path must begin with a slash.');
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const matches = Object.values(this.state.parameters)
      .filter((p) => p.Name.startsWith(prefix) && (input.Recursive || !p.Name.slice(prefix.length).includes('/')))
      .sort((a, b) => (a.Name < b.Name ? -1 : 1))
      .map((p) => this.toParameter(p));
    if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > 10)) {
      this.fail('ValidationException', 'MaxResults must be between 1 and 10');
    }
    const page = paginate(matches, input.MaxResults, input.NextToken, 10);
    if (!page) return this.fail('InvalidNextToken', 'The specified token is not valid.');
    return { Parameters: page.items, NextToken: page.nextToken };
  }

  private putParameterCommand(input: PutParameterCommandInput): Out<PutParameterCommandOutput> {
    const name = input.Name ?? '';
    if (!name) this.fail('ValidationException', 'Parameter name must not be empty');
    const existing = this.state.parameters[name];
    if (existing && !input.Overwrite) {
      this.fail(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    if (existing && input.Tags?.length) {
      this.fail(
        'ValidationException',
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
      );
    }
    const version = (existing?.Version ?? 0) + 1;
    this.state.parameters[name] = {
      Name: name,
      Type: (input.Type as ParameterRecord['Type'] | undefined) ?? existing?.Type ?? 'String',
      Value: input.Value ?? '',
      Version: version,
      LastModifiedDate: this.now,
      Tags: existing?.Tags ?? (input.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
    };
    return { Version: version, Tier: 'Standard' };
  }
}
