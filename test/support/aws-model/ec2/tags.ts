import type {
  CreateTagsCommandInput,
  CreateTagsCommandOutput,
  DeleteTagsCommandInput,
  DeleteTagsCommandOutput,
  DescribeTagsCommandInput,
  DescribeTagsCommandOutput,
  TagDescription,
} from '@aws-sdk/client-ec2';
import type { Out } from '../service-model';
import { paginate } from '../util/pagination';
import { mergeTags, removeTags, type Tag } from '../util/tags';
import type { Ec2Model } from './ec2-model';
import { matchesFilters } from './filters';

interface Taggable {
  Tags: Tag[];
}

const RESOURCE_TYPES: Array<{
  prefix: string;
  type: string;
  notFound: string;
  label: string;
  collection: (ec2: Ec2Model) => Record<string, Taggable>;
}> = [
  {
    prefix: 'sgr-',
    type: 'security-group-rule',
    notFound: 'InvalidSecurityGroupRuleId.NotFound',
    label: 'security group rule ID',
    collection: (e) => e.state.rules,
  },
  {
    prefix: 'sg-',
    type: 'security-group',
    notFound: 'InvalidGroup.NotFound',
    label: 'security group',
    collection: (e) => e.state.securityGroups,
  },
  {
    prefix: 'acl-',
    type: 'network-acl',
    notFound: 'InvalidNetworkAclID.NotFound',
    label: 'network ACL ID',
    collection: (e) => e.state.networkAcls,
  },
  {
    prefix: 'subnet-',
    type: 'subnet',
    notFound: 'InvalidSubnetID.NotFound',
    label: 'subnet ID',
    collection: (e) => e.state.subnets,
  },
  {
    prefix: 'eni-',
    type: 'network-interface',
    notFound: 'InvalidNetworkInterfaceID.NotFound',
    label: 'networkInterface ID',
    collection: (e) => e.state.networkInterfaces,
  },
  {
    prefix: 'vpc-',
    type: 'vpc',
    notFound: 'InvalidVpcID.NotFound',
    label: 'vpc ID',
    collection: (e) => e.state.vpcs,
  },
];

function resolve(ec2: Ec2Model, id: string): Taggable {
  const kind = RESOURCE_TYPES.find((r) => id.startsWith(r.prefix));
  if (!kind) return ec2.fail('InvalidID', `The ID '${id}' is not valid`);
  const resource = kind.collection(ec2)[id];
  if (!resource) return ec2.fail(kind.notFound, `The ${kind.label} '${id}' does not exist`);
  return resource;
}

/** CreateTags: all resources are checked before any is tagged. */
export function createTags(ec2: Ec2Model, input: CreateTagsCommandInput): Out<CreateTagsCommandOutput> {
  const resources = (input.Resources ?? []).map((id) => resolve(ec2, id));
  for (const tag of input.Tags ?? []) {
    const key = tag.Key ?? '';
    if (!key || key.length > 128) ec2.fail('InvalidParameterValue', `Tag key '${key}' is invalid`);
    if (key.toLowerCase().startsWith('aws:')) {
      ec2.fail(
        'InvalidParameterValue',
        `Value ( ${key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`,
      );
    }
    if ((tag.Value ?? '').length > 256) ec2.fail('InvalidParameterValue', `Tag value for '${key}' is too long`);
  }
  for (const resource of resources) {
    const merged = mergeTags(resource.Tags, input.Tags ?? []);
    if (merged.length > 50) ec2.fail('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
  }
  for (const resource of resources) resource.Tags = mergeTags(resource.Tags, input.Tags ?? []);
  return {};
}

/** DeleteTags (a tag with a Value is deleted only when the value matches). */
export function deleteTags(ec2: Ec2Model, input: DeleteTagsCommandInput): Out<DeleteTagsCommandOutput> {
  const resources = (input.Resources ?? []).map((id) => resolve(ec2, id));
  for (const resource of resources) {
    resource.Tags = input.Tags?.length ? removeTags(resource.Tags, input.Tags) : [];
  }
  return {};
}

/** DescribeTags with `resource-id`, `resource-type`, `key`, `value` filters. */
export function describeTags(ec2: Ec2Model, input: DescribeTagsCommandInput): Out<DescribeTagsCommandOutput> {
  const out: TagDescription[] = [];
  for (const kind of RESOURCE_TYPES) {
    for (const [id, resource] of Object.entries(kind.collection(ec2))) {
      for (const tag of resource.Tags) {
        const match = matchesFilters(input.Filters, (name) => {
          switch (name) {
            case 'resource-id':
              return [id];
            case 'resource-type':
              return [kind.type];
            case 'key':
              return [tag.Key];
            case 'value':
              return [tag.Value];
            default:
              return undefined;
          }
        });
        if (typeof match === 'object')
          ec2.fail('InvalidParameterValue', `The filter '${match.unsupported}' is invalid`);
        if (match)
          out.push({
            ResourceId: id,
            ResourceType: kind.type as TagDescription['ResourceType'],
            Key: tag.Key,
            Value: tag.Value,
          });
      }
    }
  }
  const page = paginate(out, input.MaxResults, input.NextToken, 1000);
  if (!page) return ec2.fail('InvalidParameterValue', 'The token is invalid');
  return { Tags: page.items, NextToken: page.nextToken };
}
