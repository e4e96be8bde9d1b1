import { z } from 'zod';
import { proposalStatusSchema } from './answers';

/**
 * The operations API's requests and answers (docs/operations.md): what an
 * operator asks for and sees. Types come from these schemas, and the OpenAPI
 * document is generated from them.
 */

const amount = z.string().describe('a decimal string, e.g. "1234.50"');
const timestamp = z.string().describe('ISO 8601, UTC');
const pageToken = z.string().nullable().describe('pass as pageToken for the next page; null on the last page');

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

const pageSize = z
  .string()
  .regex(/^\d{1,3}$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1').max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`))
  .optional();

export const stateQuerySchema = z.object({
  state: proposalStatusSchema,
  day: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
    .refine((d) => !Number.isNaN(Date.parse(d)), 'must be a real date')
    .optional()
    .describe('Posted only: the day it was posted (UTC); today by default'),
  pageSize,
  pageToken: z.string().max(2000).optional(),
});
export type StateQuery = z.infer<typeof stateQuerySchema>;

export const listedProposalSchema = z.object({
  legalEntity: z.string(),
  proposalId: z.string(),
  invoiceId: z.string(),
  customerAccount: z.string(),
  status: proposalStatusSchema,
  reason: z.string().nullable(),
  since: timestamp.describe('when it entered this state'),
  ageSeconds: z.number().int(),
  currency: z.string(),
  totalAmount: amount,
  lineCount: z.number().int(),
  transactionCount: z.number().int().describe('the lines the confirmed invoice announced'),
});
export type ListedProposal = z.infer<typeof listedProposalSchema>;

export const proposalListSchema = z
  .object({
    state: proposalStatusSchema,
    day: z.string().nullable(),
    items: z.array(listedProposalSchema),
    nextPageToken: pageToken,
  })
  .describe('Proposals in one state, newest first. Every entry is checked against the proposal itself before it is shown.');
export type ProposalList = z.infer<typeof proposalListSchema>;

export const outOfSyncQuerySchema = z.object({
  olderThanHours: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number of hours')
    .transform(Number)
    .optional(),
});

export const outOfSyncItemSchema = z.object({
  legalEntity: z.string(),
  proposalId: z.string(),
  postingId: z.string(),
  postedAt: timestamp,
  voucher: z.string().nullable(),
  actualIds: z.array(z.string()).describe('the actuals whose accounting has not been sent (up to 50 shown)'),
  actualCount: z.number().int(),
});
export const outOfSyncListSchema = z
  .object({ olderThanHours: z.number().int(), items: z.array(outOfSyncItemSchema) })
  .describe('Postings older than olderThanHours whose accounting updates are not all sent towards Dataverse yet.');
export type OutOfSyncList = z.infer<typeof outOfSyncListSchema>;

export const flowNameSchema = z.enum(['header-sync', 'actual-sync', 'import', 'write-back']);
export type FlowName = z.infer<typeof flowNameSchema>;

export const flowStateSchema = z.object({
  flow: flowNameSchema,
  label: z.string(),
  functions: z.array(z.string()),
  paused: z.boolean(),
  since: timestamp.nullable(),
  by: z.string().nullable(),
});
export type FlowState = z.infer<typeof flowStateSchema>;

export const importRunSchema = z.object({
  trigger: z.enum(['schedule', 'operator']),
  startedAt: timestamp,
  finishedAt: timestamp,
  durationMs: z.number().int(),
  outcome: z.enum(['succeeded', 'failed']),
  detail: z.string().describe('what the run did, or why it failed'),
});
export type ImportRun = z.infer<typeof importRunSchema>;

export const queueDepthSchema = z.object({
  queue: z.string(),
  active: z.number().int().nullable().describe('null where the platform does not tell (no Manage right on Service Bus)'),
  deadLettered: z.number().int().nullable(),
});
export type QueueDepth = z.infer<typeof queueDepthSchema>;

export const summarySchema = z
  .object({
    generatedAt: timestamp,
    states: z.object({
      AwaitingLines: z.number().int(),
      Error: z.number().int(),
      LinesCreated: z.number().int(),
      PostedToday: z.number().int(),
    }),
    oldestWaiting: z
      .object({ legalEntity: z.string(), proposalId: z.string(), since: timestamp, reason: z.string().nullable() })
      .nullable(),
    quarantined: z.number().int().describe('quarantined messages not retried yet'),
    lastImport: importRunSchema.nullable(),
    queues: z.array(queueDepthSchema),
    flows: z.array(flowStateSchema),
  })
  .describe('The integration at a glance.');
export type Summary = z.infer<typeof summarySchema>;

export const retryRequestSchema = z.object({
  ids: z.array(z.string().min(1, 'must not be empty').max(200)).min(1, 'name at least one message').max(50, 'at most 50 at a time'),
});

export const messagesQuerySchema = z.object({
  kind: z.enum(['quarantined', 'dead-lettered']),
  includeRetried: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('quarantined only: retried messages too'),
  pageSize,
  pageToken: z.string().max(4000).optional(),
});

export const retryableMessageSchema = z.object({
  id: z.string().describe('quarantined: 32 hex; local dead letter: ldl-…; Service Bus dead letter: sb:<queue>:<sequence number>'),
  kind: z.enum(['quarantined', 'dead-lettered']),
  source: z.string().describe('the queue it came from, or import-from-staging'),
  reason: z.string(),
  receivedAt: timestamp,
  retriedAt: timestamp.nullable(),
  retriedBy: z.string().nullable(),
  preview: z.string().describe("the body's first 200 characters"),
});
export const messageListSchema = z.object({ items: z.array(retryableMessageSchema), nextPageToken: pageToken });

export const retryResultSchema = z.object({
  id: z.string(),
  outcome: z
    .enum(['retried', 'refused', 'not-found', 'failed'])
    .describe('refused: already retried, or its body still breaks its contract; failed: sending it failed, nothing was marked, try again'),
  detail: z.string(),
});
export const retryAnswerSchema = z.object({ results: z.array(retryResultSchema) });

export const auditEntrySchema = z.object({
  at: timestamp,
  who: z.string(),
  via: z.enum(['entra', 'operator-key']),
  action: z.string(),
  target: z.string(),
  outcome: z.enum(['succeeded', 'refused', 'failed']),
  detail: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;
export const auditListSchema = z.object({ items: z.array(auditEntrySchema), nextPageToken: pageToken });

export const pageQuerySchema = z.object({ pageSize, pageToken: z.string().max(2000).optional() });
