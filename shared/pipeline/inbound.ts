import { type z } from 'zod';
import { describeIssues, jsonPayload } from '../contracts/common';
import type { Logger, Runtime } from '../runtime';

/** One delivery of a Service Bus message, as the function received it. */
export interface Delivery {
  source: string;
  messageId: string | null;
  /** The body as the trigger handed it over: text, bytes or already-parsed JSON. */
  body: unknown;
}

export type Outcome =
  | { kind: 'applied'; detail: string }
  | { kind: 'duplicate'; detail: string }
  | { kind: 'stale'; detail: string }
  /** Completed on purpose with the reason logged: a native message that asks nothing of us (an invoice status other than Confirmed, an actual marked Adjusted). */
  | { kind: 'ignored'; detail: string }
  | { kind: 'quarantined'; detail: string; quarantineId: string };

export function rawText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body) ?? String(body);
}

export async function quarantine(rt: Runtime, d: Delivery, reason: string, log: Logger): Promise<Outcome> {
  const quarantineId = await rt.quarantine.keep({ source: d.source, messageId: d.messageId, reason, raw: rawText(d.body), now: rt.now() });
  log.warn(`quarantined message ${d.messageId ?? '(no id)'} from ${d.source}: ${reason}`);
  return { kind: 'quarantined', detail: reason, quarantineId };
}

/**
 * Parses a delivery against its contract. A message that is not JSON or breaks
 * the contract is quarantined with the fields named, and the caller stops.
 */
export async function parseDelivery<S extends z.ZodType>(
  rt: Runtime,
  d: Delivery,
  schema: S,
  log: Logger,
): Promise<{ ok: true; value: z.infer<S> } | { ok: false; outcome: Outcome }> {
  const json = jsonPayload(d.body);
  if (!json.ok) return { ok: false, outcome: await quarantine(rt, d, json.reason, log) };
  return checkContract(rt, d, schema, json.value, log);
}

/** Checks a parsed body against its contract; a breach is quarantined with the fields named. */
export async function checkContract<S extends z.ZodType>(
  rt: Runtime,
  d: Delivery,
  schema: S,
  value: unknown,
  log: Logger,
): Promise<{ ok: true; value: z.infer<S> } | { ok: false; outcome: Outcome }> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, outcome: await quarantine(rt, d, describeIssues(parsed.error), log) };
  return { ok: true, value: parsed.data };
}
