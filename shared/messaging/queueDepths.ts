import { odata, type TableClient } from '@azure/data-tables';
import type { QueueDepth } from '../contracts/operations';
import type { Settings } from '../config';
import { identityCredential } from '../identity';
import { serviceBusSdk } from './serviceBusSdk';

/** How many messages wait on each queue and its dead-letter queue, where the platform tells. */
export type QueueDepths = (queues: readonly string[]) => Promise<QueueDepth[]>;

/**
 * Service Bus: the queue's runtime properties. They need the Manage right (a
 * connection string with Manage, or the Azure Service Bus Data Owner role);
 * without it the depth is unknown (null), never a guess.
 */
export function serviceBusDepths(s: Settings): QueueDepths | undefined {
  const ns = s.ServiceBusConnection__fullyQualifiedNamespace;
  const admin = s.ServiceBusConnection
    ? new (serviceBusSdk().ServiceBusAdministrationClient)(s.ServiceBusConnection)
    : ns
      ? new (serviceBusSdk().ServiceBusAdministrationClient)(ns, identityCredential(s, 'ServiceBusConnection'))
      : undefined;
  if (!admin) return undefined;
  return (queues) =>
    Promise.all(
      queues.map(async (queue) => {
        try {
          const p = await admin.getQueueRuntimeProperties(queue);
          return { queue, active: p.activeMessageCount, deadLettered: p.deadLetterMessageCount };
        } catch {
          return { queue, active: null, deadLettered: null };
        }
      }),
    );
}

async function rowsOf(table: TableClient, queue: string, cap: number): Promise<number> {
  let n = 0;
  try {
    for await (const _ of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${queue}`, select: ['RowKey'] } })) {
      if (++n >= cap) break;
    }
  } catch {
    return 0; // the local host has not made its tables yet: nothing waits
  }
  return n;
}

/** The local host's queues (tables localMessages and localDeadLetters, one partition per queue). */
export function localDepths(messages: TableClient, deadLetters: TableClient, cap = 10_000): QueueDepths {
  return (queues) =>
    Promise.all(
      queues.map(async (queue) => ({
        queue,
        active: await rowsOf(messages, queue, cap),
        deadLettered: await rowsOf(deadLetters, queue, cap),
      })),
    );
}
