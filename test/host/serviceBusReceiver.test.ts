import { describe, expect, it } from 'vitest';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { Invocations } from '../../host/invocation';
import { receiveFromServiceBus, type Receiver } from '../../host/serviceBusReceiver';
import type { ServiceBusFunction } from '../../shared/hosting/definition';

/** A receiver that hands over the given messages and records what the host did with each. */
function fakeReceiver(messages: Partial<ServiceBusReceivedMessage>[]) {
  const settled: string[] = [];
  let options: { maxConcurrentCalls?: number; autoCompleteMessages?: boolean } = {};
  const receiver: Receiver = {
    subscribe: (handlers, opts) => {
      options = opts ?? {};
      void (async () => {
        for (const m of messages) await handlers.processMessage(m as ServiceBusReceivedMessage);
      })();
      return { close: async () => {}, isRunning: true };
    },
    completeMessage: async (m) => void settled.push(`complete ${m.messageId}`),
    abandonMessage: async (m) => void settled.push(`abandon ${m.messageId}`),
    close: async () => {},
  };
  return { receiver, settled, options: () => options };
}

describe('Service Bus triggers from a real namespace (mocked receiver: no namespace here)', () => {
  it('receives in peek-lock with host.json maxConcurrentCalls, completes on success, abandons on failure, with trigger metadata', async () => {
    const seen: unknown[] = [];
    const def: ServiceBusFunction = {
      kind: 'serviceBus',
      name: 'syncActuals',
      queueName: 'project-actuals',
      connection: 'ServiceBusConnection',
      handler: async (message, context) => {
        seen.push([message, context.triggerMetadata?.messageId, context.triggerMetadata?.deliveryCount]);
        if ((message as { fail?: boolean }).fail) throw new Error('storage unavailable');
      },
    };
    const enqueuedTimeUtc = new Date('2026-11-20T10:00:00Z');
    const fake = fakeReceiver([
      { messageId: 'm1', body: { ok: true }, deliveryCount: 1, enqueuedTimeUtc },
      { messageId: 'm2', body: { fail: true }, deliveryCount: 3, enqueuedTimeUtc },
    ]);
    const invocations = new Invocations(() => {});
    const subscription = receiveFromServiceBus(fake.receiver, def, invocations, { maxConcurrentCalls: 16, log: () => {} });
    await new Promise((r) => setTimeout(r, 20));
    await invocations.drain();
    expect(fake.options()).toEqual({ autoCompleteMessages: false, maxConcurrentCalls: 16 });
    expect(seen).toEqual([
      [{ ok: true }, 'm1', 1],
      [{ fail: true }, 'm2', 3],
    ]);
    expect(fake.settled).toEqual(['complete m1', 'abandon m2']);
    await subscription.close();
  });

  it('switched off, stops its subscription but keeps the receiver (messages in hand can still be completed); switched on, subscribes again', async () => {
    const events: string[] = [];
    const receiver: Receiver = {
      subscribe: () => {
        events.push('subscribe');
        return { close: async () => void events.push('stop receiving'), isRunning: true };
      },
      completeMessage: async () => {},
      abandonMessage: async () => {},
      close: async () => void events.push('close receiver'),
    };
    const def: ServiceBusFunction = {
      kind: 'serviceBus',
      name: 'syncActuals',
      queueName: 'project-actuals',
      connection: 'ServiceBusConnection',
      handler: async () => {},
    };
    const trigger = receiveFromServiceBus(receiver, def, new Invocations(() => {}), { maxConcurrentCalls: 16, log: () => {} });
    await trigger.pause();
    await trigger.pause(); // already off: nothing more
    trigger.resume();
    trigger.resume(); // already on: one subscription
    await trigger.close();
    expect(events).toEqual(['subscribe', 'stop receiving', 'subscribe', 'stop receiving', 'close receiver']);
  });
});
