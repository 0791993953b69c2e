import { Tags } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Bulkhead's public tag contract. The response plane finds and is allowed to touch a
 * resource only through these tags, and users' cost reports group by them. Never rename.
 */
import { type ComponentName, TAG_COMPONENT } from '../../contracts/tag-names';

export {
  Component,
  type ComponentName,
  TAG_CELL,
  TAG_COMPONENT,
  TAG_ENV,
  TAG_ISOLATION,
  TAG_LISTENER_RULE,
  TAG_RESPONSE_POLICY,
  TAG_SECURITY_GROUP,
  TAG_SEVERITY_THRESHOLD,
  TAG_SITE,
} from '../../contracts/tag-names';

/** Tags a construct (and every taggable resource under it) with its component. */
export function tagComponent(scope: IConstruct, component: ComponentName): void {
  Tags.of(scope).add(TAG_COMPONENT, component);
}
