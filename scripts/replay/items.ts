import type { z } from 'zod';
import { actualSchema } from '../../shared/contracts/actual';
import { isRemoteExecutionContext } from '../../shared/contracts/dataverse/remoteExecutionContext';
import { describeIssues } from '../../shared/contracts/common';
import { confirmedInvoiceSchema } from '../../shared/contracts/invoiceProposal';
import { QUEUES } from '../../shared/queues';

export type Kind = 'quarantine' | 'local-dead-letter' | 'servicebus-dead-letter';

/** One message the tool can show and replay, whatever holds it. */
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

export function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return JSON.stringify(body) ?? String(body);
}

/** The body pretty-printed when it is JSON, as it is otherwise. */
export function prettyBody(body: string): { json: boolean; text: string } {
  try {
    return { json: true, text: JSON.stringify(JSON.parse(body), null, 2) };
  } catch {
    return { json: false, text: body };
  }
}
