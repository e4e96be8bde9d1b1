import type { InvocationContext, ServiceBusQueueHandler } from '@azure/functions';
import type { Delivery, Outcome } from '../pipeline/inbound';
import { runtime, type Logger, type Runtime } from '../runtime';

type Step = (rt: Runtime, d: Delivery, log: Logger) => Promise<Outcome>;
type BatchStep = (rt: Runtime, d: readonly Delivery[], log: Logger) => Promise<Outcome[]>;

/**
 * A Service Bus trigger for a pipeline step. Refused messages are quarantined
 * by the step and the function returns normally (the message completes); a
 * transient failure throws, so Service Bus redelivers and, in the end,
 * dead-letters it.
 */
export function inboundHandler(source: string, step: Step): ServiceBusQueueHandler {
  return async (message: unknown, context: InvocationContext) => {
    const meta = context.triggerMetadata ?? {};
    const messageId = typeof meta.messageId === 'string' ? meta.messageId : null;
    const outcome = await step(await runtime(), { source, messageId, body: message }, context);
    context.info(`${source} ${messageId ?? ''}: ${outcome.kind} (${outcome.detail})`);
  };
}

/**
 * The same for a function with cardinality 'many': the host hands over an
 * array of messages, with their ids in `messageIdArray`. Each message gets its
 * own outcome; a transient failure throws, and Service Bus redelivers them all.
 */
export function inboundBatchHandler(source: string, step: BatchStep): ServiceBusQueueHandler {
  return async (messages: unknown, context: InvocationContext) => {
    const list = Array.isArray(messages) ? (messages as unknown[]) : [messages];
    const ids = context.triggerMetadata?.messageIdArray;
    const idOf = (i: number) => (Array.isArray(ids) && typeof ids[i] === 'string' ? ids[i] : null);
    const deliveries = list.map((body, i) => ({ source, messageId: idOf(i), body }));
    const outcomes = await step(await runtime(), deliveries, context);
    const counts = outcomes.reduce<Record<string, number>>((n, o) => ({ ...n, [o.kind]: (n[o.kind] ?? 0) + 1 }), {});
    context.info(`${source}: ${list.length} message(s): ${JSON.stringify(counts)}`);
  };
}
