import type { HttpMethod } from '@azure/functions';
import { z } from 'zod';
import { actualViewSchema, postingReceiptSchema, proposalViewSchema } from '../contracts/answers';
import { postingSchema } from '../contracts/posting';
import {
  auditListSchema,
  flowNameSchema,
  flowStateSchema,
  importRunSchema,
  messageListSchema,
  messagesQuerySchema,
  retryAnswerSchema,
  retryRequestSchema,
  outOfSyncListSchema,
  outOfSyncQuerySchema,
  pageQuerySchema,
  proposalListSchema,
  stateQuerySchema,
  summarySchema,
} from '../contracts/operations';
import { MAX_BODY_BYTES } from './request';
import type { ProblemType } from './problem';
import { actualRoute, proposalRoute } from './routes';

/**
 * The HTTP surface as the OpenAPI document describes it: one entry per HTTP
 * function, with the same route and methods as its definition (a test holds
 * them to host/catalog.ts). Shapes are the zod schemas the code validates and
 * answers with; nothing here restates a field. Adding a route is adding an entry.
 */
export interface Operation {
  /** The function's name, as in its definition: the operation id. */
  function: string;
  /** Exactly the definition's route (below /api) and methods. */
  route: string;
  methods: readonly HttpMethod[];
  /** authLevel 'anonymous': no function key. */
  anonymous?: true;
  summary: string;
  description?: string;
  /** The route's parameters, validated with this schema. */
  params?: z.ZodObject;
  /** The query string's parameters, validated with this schema. */
  query?: z.ZodObject;
  /** Request headers the function reads, each a schema with its description. */
  headers?: Record<string, z.ZodType>;
  /** The JSON body, validated with this schema. */
  body?: z.ZodType;
  /** The 2xx answer (JSON unless mediaType says otherwise), and the problem types each error status can carry. */
  answer?: { status: number; description: string; schema: z.ZodType; mediaType?: string };
  problems: readonly ProblemType[];
}

/** Standard Webhooks (https://www.standardwebhooks.com/): what Finance signs each posting callback with. */
const signatureHeaders = {
  'webhook-id': z
    .string()
    .min(1)
    .describe('A fresh id per posting, the same id when retrying it: an id already applied gets the first answer again.'),
  'webhook-timestamp': z.string().regex(/^\d+$/).describe('Unix seconds when it was signed; more than 5 minutes off is refused (401).'),
  'webhook-signature': z
    .string()
    .min(1)
    .describe(
      '"v1,<base64 HMAC-SHA256 of id.timestamp.body>" keyed with the whsec_ secret; several, space-separated, while a secret is rotated.',
    ),
};

const flowRoute = z.object({ flow: flowNameSchema });

/** What an operator action reads to know who acts (shared/http/operator.ts). */
const operatorHeaders = {
  'x-operator-key': z
    .string()
    .optional()
    .describe('The operator key (OPS_OPERATOR_KEY), where there is no Microsoft Entra sign-in. With Entra, the app role decides.'),
  'x-operator-name': z.string().optional().describe('Who acts, for the audit, with x-operator-key.'),
};
const operatorProblems = ['forbidden'] as const;

/** The openapi.json route: the document describes itself too, so every route is in it. */
export const OPEN_API_ROUTE = 'openapi.json';

/** The operations console's page. */
export const CONSOLE_ROUTE = 'console';

export const OPERATIONS: readonly Operation[] = [
  {
    function: 'getInvoiceProposal',
    route: 'invoice-proposals/{legalEntity}/{proposalId}',
    methods: ['GET'],
    summary: 'Read a project invoice proposal: its status and reason, lines and posting',
    params: proposalRoute,
    answer: { status: 200, description: 'The proposal', schema: proposalViewSchema },
    problems: ['invalid-request', 'not-found'],
  },
  {
    function: 'getActual',
    route: 'actuals/{legalEntity}/{actualId}',
    methods: ['GET'],
    summary: 'Read a project actual: whether it is on a proposal line, and its accounting once posted',
    description: 'The actual is found by its id (any GUID spelling); the legal entity must be the one its current version names.',
    params: actualRoute,
    answer: { status: 200, description: 'The actual', schema: actualViewSchema },
    problems: ['invalid-request', 'not-found'],
  },
  {
    function: 'recordPosting',
    route: 'invoice-proposals/{legalEntity}/{proposalId}/posted',
    methods: ['POST'],
    summary: "Finance posted the customer invoice: record its accounting on the proposal's actuals",
    description: `Signed with Standard Webhooks. The body names every line of the proposal, at most ${MAX_BODY_BYTES} bytes of JSON. A webhook-id already applied answers as the first time and is never applied twice.`,
    params: proposalRoute,
    headers: signatureHeaders,
    body: postingSchema,
    answer: { status: 200, description: 'The posting is recorded (or was, for a repeated webhook-id)', schema: postingReceiptSchema },
    problems: [
      'invalid-request',
      'unauthorized',
      'not-found',
      'conflict',
      'payload-too-large',
      'unsupported-media-type',
      'lines-mismatch',
      'webhook-id-reused',
      'misconfigured',
    ],
  },
  {
    function: 'rejectProposalWrites',
    route: 'invoice-proposals/{*path}',
    methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    summary: 'Always refused: proposals are created and deleted only from Dataverse',
    description:
      'Any write under /invoice-proposals other than the posting callback. The answer names the allowed method in its Allow header.',
    problems: ['method-not-allowed'],
  },
  {
    function: 'opsSummary',
    route: 'ops/summary',
    methods: ['GET'],
    summary: 'Operations: the integration at a glance',
    description:
      'Counts per state, the oldest proposal waiting for lines, quarantined messages, the last import, queue depths and paused flows.',
    answer: { status: 200, description: 'The summary', schema: summarySchema },
    problems: [],
  },
  {
    function: 'proposalsByState',
    route: 'ops/proposals',
    methods: ['GET'],
    summary: 'Operations: proposals in one state, newest first',
    description: 'AwaitingLines, Error, LinesCreated (not posted yet), or Posted on one day. Paged: pass nextPageToken back as pageToken.',
    query: stateQuerySchema,
    answer: { status: 200, description: 'One page', schema: proposalListSchema },
    problems: ['invalid-request'],
  },
  {
    function: 'outOfSyncPostings',
    route: 'ops/out-of-sync',
    methods: ['GET'],
    summary: 'Operations: postings whose accounting is still not sent towards Dataverse',
    query: outOfSyncQuerySchema,
    answer: { status: 200, description: 'The postings, oldest first', schema: outOfSyncListSchema },
    problems: ['invalid-request'],
  },
  {
    function: 'operatorAudit',
    route: 'ops/audit',
    methods: ['GET'],
    summary: 'Operations: what operators did, newest first',
    query: pageQuerySchema,
    answer: { status: 200, description: 'One page of the audit', schema: auditListSchema },
    problems: ['invalid-request'],
  },
  {
    function: 'retryableMessages',
    route: 'ops/messages',
    methods: ['GET'],
    summary: 'Operations: quarantined or dead-lettered messages, with their reasons',
    query: messagesQuerySchema,
    answer: { status: 200, description: 'One page', schema: messageListSchema },
    problems: ['invalid-request'],
  },
  {
    function: 'retryMessages',
    route: 'ops/messages/retry',
    methods: ['POST'],
    summary: 'Operations (operator): send quarantined or dead-lettered messages again, each at most once',
    description:
      'Up to 50 ids. Each gets its own outcome; a message already retried is refused, saying when and by whom. When none is retried the answer is a problem (404 none found, 409 each refused) with the same results. Audited.',
    headers: operatorHeaders,
    body: retryRequestSchema,
    answer: { status: 200, description: 'What became of each message', schema: retryAnswerSchema },
    problems: ['invalid-request', 'not-found', 'conflict', 'unsupported-media-type', 'payload-too-large', ...operatorProblems],
  },
  {
    function: 'runImportNow',
    route: 'ops/import',
    methods: ['POST'],
    summary: 'Operations (operator): run Import from staging now',
    description: 'Refused while the import flow is paused. Audited.',
    headers: operatorHeaders,
    answer: {
      status: 200,
      description: 'The run and what it did',
      schema: z.object({ summary: z.record(z.string(), z.unknown()), run: importRunSchema }),
    },
    problems: ['flow-paused', ...operatorProblems],
  },
  {
    function: 'operationFlows',
    route: 'ops/flows',
    methods: ['GET'],
    summary: 'Operations: the flows, and which are paused, since when and by whom',
    answer: { status: 200, description: 'The flows', schema: z.object({ flows: z.array(flowStateSchema) }) },
    problems: [],
  },
  ...(['pause', 'resume'] as const).map((change): Operation => ({
    function: `${change}Flow`,
    route: `ops/flows/{flow}/${change}`,
    methods: ['POST'],
    summary:
      change === 'pause'
        ? 'Operations (operator): pause a flow; its messages wait in their queue and staged work stays, nothing is dead-lettered'
        : 'Operations (operator): resume a paused flow; it catches up on what waited',
    description: 'In Azure this changes AzureWebJobs.<function>.Disabled through Azure Resource Manager, which restarts the app. Audited.',
    params: flowRoute,
    headers: operatorHeaders,
    answer: { status: 200, description: 'The flow as it now stands', schema: flowStateSchema },
    problems: ['not-found', change === 'pause' ? 'already-paused' : 'not-paused', 'switch-failed', ...operatorProblems],
  })),
  {
    function: 'getOpenApi',
    route: OPEN_API_ROUTE,
    methods: ['GET'],
    anonymous: true,
    summary: 'This document: OpenAPI 3.1, to generate a client from',
    answer: { status: 200, description: 'The OpenAPI document', schema: z.looseObject({ openapi: z.string() }) },
    problems: [],
  },
  {
    function: 'getConsole',
    route: CONSOLE_ROUTE,
    methods: ['GET'],
    summary: 'The operations console: a page for people, over the /ops routes',
    description:
      'Open it with the function key as ?code=; the page sends the same key as x-functions-key on its calls, and the operator name and key it asks for on operator actions.',
    answer: { status: 200, description: 'The console page', schema: z.string(), mediaType: 'text/html' },
    problems: [],
  },
];
