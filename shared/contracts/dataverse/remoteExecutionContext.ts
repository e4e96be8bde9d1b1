/**
 * The RemoteExecutionContext a Dataverse service endpoint posts to Service Bus
 * in its JSON message format ("Write a listener application for an Azure
 * solution"; "Use WebHooks to create external handlers for server events"
 * shows a full sample). Collections are DataContract dictionaries: arrays of
 * { key, value }. Only what we read is checked; the rest passes through.
 */
import { z } from 'zod';
import { describeIssues } from '../common';

const keyValue = <T extends z.ZodType>(value: T) => z.object({ key: z.string(), value });

/** Absent, null or empty: a message over 192 KB has these removed. */
const dictionary = <T extends z.ZodType>(value: T) => z.array(keyValue(value)).nullish();

export const entitySchema = z.looseObject({
  LogicalName: z.string().min(1, 'must name the table'),
  Id: z.string(),
  Attributes: z.array(keyValue(z.unknown())),
  RowVersion: z.string().nullish(),
});

export const remoteExecutionContextSchema = z.looseObject({
  MessageName: z.string().min(1, 'must name the message'),
  PrimaryEntityName: z.string().min(1, 'must name the table'),
  PrimaryEntityId: z.string(),
  CorrelationId: z.string().optional(),
  Depth: z.number().optional(),
  Stage: z.number().optional(),
  InputParameters: dictionary(z.unknown()),
  PreEntityImages: dictionary(entitySchema),
  PostEntityImages: dictionary(entitySchema),
});

export type DataverseEntity = z.infer<typeof entitySchema>;
export type RemoteExecutionContext = z.infer<typeof remoteExecutionContextSchema>;

/**
 * Tells a native Dataverse message from this project's own contracts by shape:
 * the context always names its message and primary table, which our flat
 * contracts (invoiceId / actualId at the top) never carry.
 */
export function isRemoteExecutionContext(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.MessageName === 'string' && typeof v.PrimaryEntityName === 'string' && 'PrimaryEntityId' in v;
}

export function parseRemoteExecutionContext(value: unknown): { ok: true; context: RemoteExecutionContext } | { ok: false; reason: string } {
  const parsed = remoteExecutionContextSchema.safeParse(value);
  return parsed.success ? { ok: true, context: parsed.data } : { ok: false, reason: describeIssues(parsed.error) };
}
