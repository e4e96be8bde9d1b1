/**
 * Reads named columns of a record view through decoders, so that every
 * problem names the attribute at fault (e.g. "msdyn_documentdate: malformed /Date()…").
 */
import { AttributeProblem, int64Text, type Decoder } from './attributeValues';
import type { EntityView } from './entityView';

export type RecordView = Extract<EntityView, { kind: 'record' }>;

export function requiredColumn<T>(view: RecordView, attribute: string, decode: Decoder<T>): T {
  if (!view.attributes.has(attribute)) {
    const hint = view.hasPostImage ? 'the post-image lacks it' : 'the message has no post-image; register one that includes it';
    throw new AttributeProblem(attribute, `is missing (${hint})`);
  }
  const value = optionalColumn(view, attribute, decode);
  if (value === undefined) throw new AttributeProblem(attribute, 'is empty');
  return value;
}

/** undefined when the column is absent or cleared (null). */
export function optionalColumn<T>(view: RecordView, attribute: string, decode: Decoder<T>): T | undefined {
  const value = view.attributes.get(attribute);
  if (value === undefined || value === null) return undefined;
  try {
    return decode(value);
  } catch (e) {
    throw new AttributeProblem(attribute, e instanceof Error ? e.message : String(e));
  }
}

/** The row's versionnumber as digits: the column when the images carry it, else the entity's RowVersion property. */
export function recordVersion(view: RecordView): string {
  if (view.attributes.has('versionnumber') || view.rowVersion === undefined) return requiredColumn(view, 'versionnumber', int64Text);
  try {
    return int64Text(view.rowVersion);
  } catch (e) {
    throw new AttributeProblem('RowVersion', (e as Error).message);
  }
}
