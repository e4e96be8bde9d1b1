import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import type { ServiceBusFunction } from '../shared/hosting/definition';
import type { Invocations, LogLine } from './invocation';

export type Receiver = Pick<ServiceBusReceiver, 'subscribe' | 'completeMessage' | 'abandonMessage' | 'close'>;

/** The trigger metadata the Functions host gives a Service Bus function. */
export function triggerMetadata(m: ServiceBusReceivedMessage): Record<string, unknown> {
  return {
    messageId: m.messageId,
    deliveryCount: m.deliveryCount,
    enqueuedTimeUtc: m.enqueuedTimeUtc?.toISOString(),
    lockedUntilUtc: m.lockedUntilUtc?.toISOString(),
    sequenceNumber: m.sequenceNumber?.toString(),
    contentType: m.contentType,
  };
}

/**
 * Receives a queue from a real namespace (or the official emulator) in
 * peek-lock mode: complete on success, abandon on failure, so Service Bus
 * counts the delivery and dead-letters after the queue's max delivery count.
 */
export function receiveFromServiceBus(
  receiver: Receiver,
  def: ServiceBusFunction,
  invocations: Invocations,
  options: { maxConcurrentCalls: number; log: LogLine },
): { close(): Promise<void>; pause(): Promise<void>; resume(): void } {
  const subscribe = () =>
    receiver.subscribe(
      {
        processMessage: (m) =>
          invocations.track(
            (async () => {
              const body = Buffer.isBuffer(m.body) ? m.body.toString('utf8') : m.body;
              try {
                // A function with cardinality 'many' gets an array; here, one message per invocation.
                const meta = triggerMetadata(m);
                if (def.cardinality === 'many')
                  await def.handler([body], invocations.context(def.name, { ...meta, messageIdArray: [meta.messageId] }));
                else await def.handler(body, invocations.context(def.name, meta));
              } catch (e) {
                options.log(
                  'warning',
                  def.name,
                  `message ${String(m.messageId)} failed delivery ${m.deliveryCount}: ${(e as Error).message}`,
                );
                await receiver.abandonMessage(m);
                return;
              }
              await receiver.completeMessage(m);
            })(),
          ),
        processError: async (args) =>
          options.log('error', def.name, `Service Bus receive error (${args.errorSource}): ${args.error.message}`),
      },
      { autoCompleteMessages: false, maxConcurrentCalls: options.maxConcurrentCalls },
    );
  let subscription: { close(): Promise<void> } | undefined = subscribe();
  return {
    close: async () => {
      await subscription?.close();
      await receiver.close();
    },
    // Switched off (AzureWebJobs.<name>.Disabled): the SDK stops asking for messages but keeps the link,
    // so messages being processed are still completed; the rest stay in the queue, their delivery count untouched.
    pause: async () => {
      const stopping = subscription;
      subscription = undefined;
      await stopping?.close();
    },
    resume: () => {
      subscription ??= subscribe();
    },
  };
}

export function openReceiver(client: ServiceBusClient, queue: string): Receiver {
  return client.createReceiver(queue, { receiveMode: 'peekLock' });
}
