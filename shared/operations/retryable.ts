import type { z } from 'zod';
import { actualSchema } from '../contracts/actual';
import { isRemoteExecutionContext } from '../contracts/dataverse/remoteExecutionContext';
import { describeIssues } from '../contracts/common';
import { confirmedInvoiceSchema } from '../contracts/invoiceProposal';
import { QUEUES } from '../queues';

export type Kind = 'quarantine' | 'local-dead-letter' | 'servicebus-dead-letter';

/** One message an operator can look at and retry, whatever holds it (the replay tool's and the operations API's). */
export interface Item {
  id: string;
  kind: Kind;
  /** The queue it came from, or `import-from-staging`. */
  source: string;
  /** When it was quarantined or dead-lettered (ISO 8601). */
  receivedAt: string;
  messageId: string | null;
  reason: string;
  replayedAt: string | null;
  /** Who replayed it (an operator's name), when known. */
  replayedBy: string | null;
  body: string;
  /** The stored body is only the beginning of the message. */
  bodyTruncated: boolean;
  details: Record<string, unknown>;
}

export const IMPORT_FROM_STAGING = 'import-from-staging';
export const INBOUND_QUEUES = [QUEUES.proposals, QUEUES.actuals] as const;
export const SOURCES = [...INBOUND_QUEUES, IMPORT_FROM_STAGING] as const;

const FUNCTION_FOR_QUEUE: Record<string, string> = {
  [QUEUES.proposals]: 'syncInvoiceProposal',
  [QUEUES.actuals]: 'syncActuals',
};

const SCHEMA_FOR_QUEUE: Record<string, z.ZodType> = {
  [QUEUES.proposals]: confirmedInvoiceSchema,
  [QUEUES.actuals]: actualSchema,
};

/**
 * The queue a message goes back to. An actual refused by Import from staging is
 * kept as the actual itself, so it goes back through syncActuals.
 */
export function queueForSource(source: string): string | undefined {
  if (source === IMPORT_FROM_STAGING) return QUEUES.actuals;
  return source in FUNCTION_FOR_QUEUE ? source : undefined;
}

export function functionForQueue(queue: string): string | undefined {
  return FUNCTION_FOR_QUEUE[queue];
}

/**
 * Why this body would be refused again by the queue's contract, or undefined when it passes.
 * Dataverse's own messages (RemoteExecutionContext) become the contract only once their
 * lookups are resolved, in the function: the tool cannot check them, so it lets them through.
 */
export function contractProblem(queue: string, body: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return 'body: is not valid JSON';
  }
  if (isRemoteExecutionContext(json)) return undefined;
  const schema = SCHEMA_FOR_QUEUE[queue];
  if (!schema) return undefined;
  const r = schema.safeParse(json);
  return r.success ? undefined : describeIssues(r.error);
}
