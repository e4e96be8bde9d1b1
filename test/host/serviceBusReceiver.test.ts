import { describe, expect, it } from 'vitest';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { Invocations } from '../../host/invocation';
import { receiveFromServiceBus, type Receiver } from '../../host/serviceBusReceiver';
import type { ServiceBusFunction } from '../../shared/hosting/definition';

/** The trigger settings as the repository's host.json gives them, logs discarded. */
const HOST_JSON = { maxConcurrentCalls: 16, maxMessageBatchSize: 100, maxAutoLockRenewalMs: 300_000, log: () => {} };

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
    receiveMessages: async () => [],
    renewMessageLock: async () => new Date(),
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
    const subscription = receiveFromServiceBus(fake.receiver, def, invocations, HOST_JSON);
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
      receiveMessages: async () => [],
      renewMessageLock: async () => new Date(),
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
    const trigger = receiveFromServiceBus(receiver, def, new Invocations(() => {}), HOST_JSON);
    await trigger.pause();
    await trigger.pause(); // already off: nothing more
    trigger.resume();
    trigger.resume(); // already on: one subscription
    await trigger.close();
    expect(events).toEqual(['subscribe', 'stop receiving', 'subscribe', 'stop receiving', 'close receiver']);
  });

  it("hands a function with cardinality 'many' what one receive returns, up to maxMessageBatchSize, with the batch's metadata arrays; a failed batch is abandoned whole and redelivered", async () => {
    const bus = peekLockQueue(Array.from({ length: 150 }, (_, i) => `m${i}`));
    const batches: { bodies: unknown[]; ids: unknown; counts: unknown }[] = [];
    let failOnce = true;
    const def = batchFunction(async (messages, context) => {
      const ids = context.triggerMetadata?.messageIdArray;
      batches.push({ bodies: messages as unknown[], ids, counts: context.triggerMetadata?.deliveryCountArray });
      if (failOnce && (ids as string[]).includes('m120')) {
        failOnce = false;
        throw new Error('storage unavailable');
      }
    });
    const invocations = new Invocations(() => {});
    const trigger = receiveFromServiceBus(bus.receiver, def, invocations, HOST_JSON);
    await until(() => bus.completed.length === 150);
    await trigger.close();
    expect(batches.map((b) => b.bodies.length)).toEqual([100, 50, 50]);
    expect(batches[0]!.ids).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    expect(batches[0]!.bodies[0]).toBe('{"n":"m0"}'); // the message text, as the host hands it over
    expect(batches[1]!.counts).toEqual(Array(50).fill(1));
    expect(batches[2]!.counts, 'the abandoned batch comes back, each message delivered a second time').toEqual(Array(50).fill(2));
    expect(bus.abandoned).toEqual(Array.from({ length: 50 }, (_, i) => `m${100 + i}`));
    expect(new Set(bus.completed).size).toBe(150);
  });

  it('switched off, a batch function stops receiving: messages sent meanwhile wait with their delivery count untouched until it is switched on', async () => {
    const bus = peekLockQueue([]);
    const seen: string[] = [];
    const def = batchFunction(async (_messages, context) => void seen.push(...(context.triggerMetadata?.messageIdArray as string[])));
    const trigger = receiveFromServiceBus(bus.receiver, def, new Invocations(() => {}), HOST_JSON);
    await trigger.pause();
    bus.send('late-1', 'late-2');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    expect(bus.deliveryCounts()).toEqual({ 'late-1': 0, 'late-2': 0 });
    trigger.resume();
    await until(() => bus.completed.length === 2);
    await trigger.close();
    expect(seen).toEqual(['late-1', 'late-2']);
  });

  it('keeps the locks of a batch that takes longer than the lock duration, so every message is completed (not redelivered)', async () => {
    const bus = peekLockQueue(['slow-1', 'slow-2', 'slow-3'], 120);
    const def = batchFunction(() => new Promise<void>((r) => setTimeout(r, 500))); // a write-back waiting out a Retry-After
    const trigger = receiveFromServiceBus(bus.receiver, def, new Invocations(() => {}), HOST_JSON);
    await until(() => bus.completed.length === 3);
    await trigger.close();
    expect(bus.completed.sort()).toEqual(['slow-1', 'slow-2', 'slow-3']);
    expect(bus.renewals()).toBeGreaterThanOrEqual(3 * 4); // every 60 ms for 500 ms, each message
  });
});

/** syncActuals as the catalog declares it (cardinality 'many'), with the test's handler. */
function batchFunction(handler: ServiceBusFunction['handler']): ServiceBusFunction {
  return {
    kind: 'serviceBus',
    name: 'syncActuals',
    queueName: 'project-actuals',
    connection: 'ServiceBusConnection',
    cardinality: 'many',
    handler,
  };
}

async function until(done: () => boolean, ms = 5_000): Promise<void> {
  for (const end = Date.now() + ms; !done();) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A peek-lock queue standing in for a Service Bus queue, as its receiver API behaves: receiveMessages returns up
 * to `maxMessageCount` messages, or none once `maxWaitTimeInMs` passes with the queue empty; each received message
 * is locked for `lockMs` (renewMessageLock extends it); settling a message whose lock has expired fails with
 * MessageLockLost and the message goes back to the queue; abandon puts it back at once; the delivery count rises
 * with each receive.
 */
function peekLockQueue(ids: string[], lockMs = 60_000) {
  type Entry = { id: string; deliveryCount: number; lockedUntil: number };
  const waiting: Entry[] = ids.map((id) => ({ id, deliveryCount: 0, lockedUntil: 0 }));
  const completed: string[] = [];
  const abandoned: string[] = [];
  let renewals = 0;
  const held = new Map<string, Entry>();
  const received = (w: Entry) => {
    w.deliveryCount++;
    w.lockedUntil = Date.now() + lockMs;
    held.set(w.id, w);
    return {
      messageId: w.id,
      body: `{"n":"${w.id}"}`,
      deliveryCount: w.deliveryCount,
      enqueuedTimeUtc: new Date(),
      lockedUntilUtc: new Date(w.lockedUntil),
    } as unknown as ServiceBusReceivedMessage;
  };
  const locked = (m: ServiceBusReceivedMessage): Entry => {
    const w = held.get(String(m.messageId));
    if (!w || w.lockedUntil < Date.now()) {
      if (w) {
        held.delete(w.id); // the service takes the message back when its lock expires
        waiting.push(w);
      }
      throw Object.assign(new Error('The lock supplied is invalid: it expired, or the message was already settled.'), {
        code: 'MessageLockLost',
      });
    }
    return w;
  };
  const receiver: Receiver = {
    subscribe: () => {
      throw new Error('a batch function receives, it does not subscribe');
    },
    receiveMessages: async (max, options) => {
      const end = Date.now() + (options?.maxWaitTimeInMs ?? 60_000);
      while (!waiting.length && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      return waiting.splice(0, max).map(received);
    },
    renewMessageLock: async (m) => {
      const w = locked(m);
      renewals++;
      w.lockedUntil = Date.now() + lockMs;
      return new Date(w.lockedUntil);
    },
    completeMessage: async (m) => {
      held.delete(locked(m).id);
      completed.push(String(m.messageId));
    },
    abandonMessage: async (m) => {
      const w = locked(m);
      held.delete(w.id);
      waiting.push(w);
      abandoned.push(w.id);
    },
    close: async () => {},
  };
  return {
    receiver,
    completed,
    abandoned,
    renewals: () => renewals,
    send: (...more: string[]) => waiting.push(...more.map((id) => ({ id, deliveryCount: 0, lockedUntil: 0 }))),
    deliveryCounts: () => Object.fromEntries(waiting.map((w) => [w.id, w.deliveryCount])),
  };
}
