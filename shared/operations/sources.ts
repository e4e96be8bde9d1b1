import type { Settings } from '../config';
import type { FlowState } from '../contracts/operations';
import { localDepths, serviceBusDepths, type QueueDepths } from '../messaging/queueDepths';
import { QUEUES } from '../queues';
import { tableClient } from '../storage/tables';
import type { SummarySources } from './summary';

/** Queue depths from Service Bus when it is configured, else from the local host's queues. */
export function queueDepths(s: Settings): QueueDepths {
  return serviceBusDepths(s) ?? localDepths(tableClient(s, 'localMessages'), tableClient(s, 'localDeadLetters'));
}

/** What the summary reads beyond the tables: the queues' depths and the flows' pause state. */
export function summarySources(s: Settings, flows: () => Promise<FlowState[]>): SummarySources {
  const depths = queueDepths(s);
  return { queues: () => depths(Object.values(QUEUES)), flows };
}
