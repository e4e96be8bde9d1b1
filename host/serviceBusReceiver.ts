import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import type { ServiceBusFunction } from '../shared/hosting/definition';
import type { Invocations, LogLine } from './invocation';

export type Receiver = Pick<
  ServiceBusReceiver,
  'subscribe' | 'receiveMessages' | 'renewMessageLock' | 'completeMessage' | 'abandonMessage' | 'close'
>;

/** How long one receive of a batch waits for a first message before asking again (the loop's pause check). */
const BATCH_WAIT_MS = 1_000;

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

/** The trigger metadata of a batch, as the Functions host gives a function with cardinality 'many': one array per field. */
export function batchTriggerMetadata(messages: readonly ServiceBusReceivedMessage[]): Record<string, unknown> {
  const each = messages.map(triggerMetadata);
  return {
    messageIdArray: each.map((m) => m.messageId),
    deliveryCountArray: each.map((m) => m.deliveryCount),
    enqueuedTimeUtcArray: each.map((m) => m.enqueuedTimeUtc),
    lockedUntilUtcArray: each.map((m) => m.lockedUntilUtc),
    sequenceNumberArray: each.map((m) => m.sequenceNumber),
    contentTypeArray: each.map((m) => m.contentType),
  };
}

const bodyText = (m: ServiceBusReceivedMessage): unknown => (Buffer.isBuffer(m.body) ? m.body.toString('utf8') : m.body);

/**
 * Receives a queue from a real namespace (or the official emulator) in
 * peek-lock mode: complete on success, abandon on failure, so Service Bus
 * counts the delivery and dead-letters after the queue's max delivery count.
 * A function with cardinality 'many' gets what one receive returns (up to
 * host.json's maxMessageBatchSize) in one invocation, completed or abandoned
 * together, as the Functions host does; the others get one message each, up
 * to maxConcurrentCalls at once.
 */
export function receiveFromServiceBus(
  receiver: Receiver,
  def: ServiceBusFunction,
  invocations: Invocations,
  options: { maxConcurrentCalls: number; maxMessageBatchSize: number; maxAutoLockRenewalMs: number; log: LogLine },
): { close(): Promise<void>; pause(): Promise<void>; resume(): void } {
  const failed = (ids: string, count: number | undefined, e: unknown) =>
    options.log('warning', def.name, `message ${ids} failed delivery ${count ?? '?'}: ${(e as Error).message}`);

  const deliverOne = async (m: ServiceBusReceivedMessage) => {
    try {
      await def.handler(bodyText(m), invocations.context(def.name, triggerMetadata(m)));
    } catch (e) {
      failed(String(m.messageId), m.deliveryCount, e);
      return receiver.abandonMessage(m);
    }
    await receiver.completeMessage(m);
  };

  /** Completes or abandons each message of a batch on its own: one lost lock does not leave the others unsettled. */
  const settle = async (messages: readonly ServiceBusReceivedMessage[], how: 'completeMessage' | 'abandonMessage') => {
    for (const m of messages)
      await receiver[how](m).catch((e: unknown) =>
        options.log(
          'warning',
          def.name,
          `message ${String(m.messageId)} not settled (${(e as Error).message}); Service Bus delivers it again`,
        ),
      );
  };

  /**
   * Keeps a batch's locks while it is processed, as the Functions host does up to host.json's
   * maxAutoLockRenewalDuration: received messages (unlike subscribed ones) get no renewal from the SDK,
   * and a batch of write-backs waiting out a Dataverse Retry-After can outlast the queue's lock duration.
   */
  const keepLocks = (messages: readonly ServiceBusReceivedMessage[]): (() => void) => {
    const lockedUntil = Math.min(...messages.map((m) => m.lockedUntilUtc?.getTime() ?? Date.now() + 60_000));
    const every = Math.max(50, (lockedUntil - Date.now()) / 2);
    const giveUpAt = Date.now() + options.maxAutoLockRenewalMs;
    const timer = setInterval(() => {
      if (Date.now() > giveUpAt) return clearInterval(timer);
      for (const m of messages)
        receiver
          .renewMessageLock(m)
          .catch((e: unknown) =>
            options.log('warning', def.name, `lock of message ${String(m.messageId)} not renewed: ${(e as Error).message}`),
          );
    }, every);
    return () => clearInterval(timer);
  };

  const deliverBatch = async (messages: ServiceBusReceivedMessage[]) => {
    const release = keepLocks(messages);
    try {
      await def.handler(messages.map(bodyText), invocations.context(def.name, batchTriggerMetadata(messages)));
    } catch (e) {
      failed(messages.map((m) => String(m.messageId)).join(', '), Math.max(...messages.map((m) => m.deliveryCount ?? 0)), e);
      return await settle(messages, 'abandonMessage');
    } finally {
      release();
    }
    await settle(messages, 'completeMessage');
  };

  /** Cardinality 'many': receive a batch, deliver it, and again, until stopped. */
  const receiveBatches = (): { close(): Promise<void> } => {
    let running = true;
    const loop = (async () => {
      while (running) {
        try {
          const messages = await receiver.receiveMessages(options.maxMessageBatchSize, { maxWaitTimeInMs: BATCH_WAIT_MS });
          if (messages.length) await invocations.track(deliverBatch(messages));
        } catch (e) {
          options.log('error', def.name, `Service Bus receive error: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, BATCH_WAIT_MS));
        }
      }
    })();
    return {
      close: async () => {
        running = false;
        await loop; // a batch in hand is delivered and settled first
      },
    };
  };

  const subscribe = (): { close(): Promise<void> } =>
    def.cardinality === 'many'
      ? receiveBatches()
      : receiver.subscribe(
          {
            processMessage: (m) => invocations.track(deliverOne(m)),
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
