/**
 * The steps both inbound queues share for a native message: check its shape,
 * that it is a Create/Update of the expected table, and either give its
 * merged record view or say it was stripped and must be read from the Web API.
 */
import { AttributeProblem } from './attributeValues';
import type { RecordView } from './columnReader';
import { entityView } from './entityView';
import { parseRemoteExecutionContext } from './remoteExecutionContext';

export type Invalid = { readonly kind: 'invalid'; readonly reason: string };
export type Stripped = { readonly kind: 'stripped'; readonly entity: string; readonly id: string };
/** The outcomes every native reading shares besides its own results. */
export type NotRead = Stripped | Invalid;

export type MessageOptions = {
  /** The brokered message's MessageMaxSizeExceeded property, when the host passes it on. */
  readonly messageMaxSizeExceeded?: boolean;
};

export function openRecordMessage(
  value: unknown,
  expectedEntity: string,
  options: MessageOptions = {},
): { kind: 'record'; view: RecordView } | Stripped | Invalid {
  const parsed = parseRemoteExecutionContext(value);
  if (!parsed.ok) return { kind: 'invalid', reason: parsed.reason };
  const entity = parsed.context.PrimaryEntityName;
  if (entity !== expectedEntity) {
    return { kind: 'invalid', reason: `PrimaryEntityName: ${JSON.stringify(entity)} is not handled here; expected ${expectedEntity}` };
  }
  return attempt(() => {
    const view = entityView(parsed.context, options);
    return view.kind === 'stripped' ? { kind: 'stripped', entity, id: view.id } : { kind: 'record', view };
  });
}

/** Runs a reading step; an AttributeProblem becomes an `invalid` result, anything else is a bug and propagates. */
export function attempt<T>(read: () => T): T | Invalid {
  try {
    return read();
  } catch (e) {
    if (e instanceof AttributeProblem) return { kind: 'invalid', reason: e.message };
    throw e;
  }
}
