import type { InvocationContext, ServiceBusQueueHandler } from '@azure/functions';
import type { Delivery, Outcome } from '../pipeline/inbound';
import { runtime, type Logger, type Runtime } from '../runtime';

type Step = (rt: Runtime, d: Delivery, log: Logger) => Promise<Outcome>;

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
