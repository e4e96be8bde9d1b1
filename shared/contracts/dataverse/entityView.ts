/**
 * One record's columns as a Create/Update message describes them: the
 * post-image (the row after the operation, as registered on the step) with
 * the Target (the columns the operation set) laid over it, Target winning.
 *
 * A message over 192 KB loses InputParameters and the images ("Azure
 * integration": the MessageMaxSizeExceeded property is then set on the
 * brokered message). Such a message is reported as `stripped` so the caller
 * reads the row from the Web API; the shape alone tells, since not every
 * path keeps message properties.
 */
import { AttributeProblem, guid } from './attributeValues';
import { entitySchema, type DataverseEntity, type RemoteExecutionContext } from './remoteExecutionContext';

export type RecordMessage = 'Create' | 'Update';

export type EntityView =
  | {
      readonly kind: 'record';
      readonly message: RecordMessage;
      readonly entity: string;
      readonly id: string;
      /** Post-image merged with Target; a null value is a cleared column. */
      readonly attributes: ReadonlyMap<string, unknown>;
      /** The columns the Target carried: what this operation set. */
      readonly changed: ReadonlySet<string>;
      readonly hasPostImage: boolean;
      /** The entity's RowVersion property, when the message carried one. */
      readonly rowVersion?: string;
    }
  | { readonly kind: 'stripped'; readonly message: RecordMessage; readonly entity: string; readonly id: string };

const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

/** Throws AttributeProblem naming MessageName, PrimaryEntityId or the Target when they do not fit. */
export function entityView(context: RemoteExecutionContext, options: { messageMaxSizeExceeded?: boolean } = {}): EntityView {
  const message = context.MessageName;
  if (message !== 'Create' && message !== 'Update') {
    throw new AttributeProblem('MessageName', `${JSON.stringify(message)} is not handled; expected Create or Update`);
  }
  const entity = context.PrimaryEntityName;
  const target = targetEntity(context);
  const images = (context.PostEntityImages ?? []).map((image) => image.value).filter((image) => image.LogicalName === entity);
  const id = recordId(context.PrimaryEntityId, target);

  if (options.messageMaxSizeExceeded || (target === undefined && images.length === 0)) {
    return { kind: 'stripped', message, entity, id };
  }
  if (target === undefined) throw new AttributeProblem('InputParameters', `carries no Target for ${message}`);

  const attributes = new Map<string, unknown>();
  for (const image of images) for (const { key, value } of image.Attributes) attributes.set(key, value);
  for (const { key, value } of target.Attributes) attributes.set(key, value);
  const rowVersion = target.RowVersion ?? images.find((image) => image.RowVersion)?.RowVersion ?? undefined;
  return {
    kind: 'record',
    message,
    entity,
    id,
    attributes,
    changed: new Set(target.Attributes.map((a) => a.key)),
    hasPostImage: images.length > 0,
    ...(rowVersion ? { rowVersion } : {}),
  };
}

function targetEntity(context: RemoteExecutionContext): DataverseEntity | undefined {
  const target = context.InputParameters?.find((p) => p.key === 'Target');
  if (target === undefined) return undefined;
  const parsed = entitySchema.safeParse(target.value);
  if (!parsed.success) throw new AttributeProblem('InputParameters.Target', 'is not an Entity with LogicalName, Id and Attributes');
  if (parsed.data.LogicalName !== context.PrimaryEntityName) {
    throw new AttributeProblem(
      'InputParameters.Target',
      `is ${parsed.data.LogicalName}, but PrimaryEntityName is ${context.PrimaryEntityName}`,
    );
  }
  return parsed.data;
}

function recordId(primaryEntityId: string, target: DataverseEntity | undefined): string {
  const candidate = primaryEntityId && primaryEntityId !== EMPTY_GUID ? primaryEntityId : target?.Id;
  try {
    return guid(candidate);
  } catch (e) {
    throw new AttributeProblem('PrimaryEntityId', (e as Error).message);
  }
}
