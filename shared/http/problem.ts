import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';

/**
 * RFC 9457 problem details. `type` is stable per kind of problem, so clients can
 * branch on it; `field` names the input at fault. Never a stack trace or secret.
 */
export type ProblemType =
  | 'invalid-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'conflict'
  | 'flow-paused'
  | 'already-paused'
  | 'not-paused'
  | 'switch-failed'
  | 'lines-mismatch'
  | 'webhook-id-reused'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'misconfigured'
  | 'internal-error';

export const PROBLEM_TITLES: Record<ProblemType, string> = {
  'invalid-request': 'The request is not valid',
  unauthorized: 'The request is not authenticated',
  forbidden: 'The caller may not do this',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  conflict: 'The request conflicts with the current state',
  'flow-paused': 'The flow is paused',
  'already-paused': 'The flow is already paused',
  'not-paused': 'The flow is not paused',
  'switch-failed': 'The platform did not take the change; nothing was changed',
  'lines-mismatch': "The posting does not name exactly the proposal's lines",
  'webhook-id-reused': 'The webhook-id was already used for a different request',
  'payload-too-large': 'The request body is too large',
  'unsupported-media-type': 'The request body must be JSON',
  // An app setting this function needs is missing or wrong; the detail names it, never its value.
  misconfigured: 'The function is not configured to answer this request',
  'internal-error': 'Internal error',
};

export const PROBLEM_STATUS: Record<ProblemType, number> = {
  'invalid-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'flow-paused': 409,
  'already-paused': 409,
  'not-paused': 409,
  'switch-failed': 502,
  'lines-mismatch': 422,
  'webhook-id-reused': 422,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  misconfigured: 503,
  'internal-error': 500,
};

export const PROBLEM_BASE = 'https://project-invoice-integration/problems/';

/** The body of every problem answer; the OpenAPI document shows this schema, and problem() builds exactly it. */
export const problemDetailsSchema = z
  .object({
    type: z.string().describe(`${PROBLEM_BASE}<kind>, stable per kind of problem: branch on it`),
    title: z.string().describe('the same for every problem of a type'),
    status: z.number().int(),
    detail: z.string().describe('what is wrong with this request, in words: "field: message; …"'),
    field: z.string().optional().describe('the input at fault, when one is: a body field path, a header or a route parameter'),
    instance: z.string().optional(),
  })
  .describe('RFC 9457 problem details');
export type ProblemDetails = z.infer<typeof problemDetailsSchema>;

export function problem(
  type: ProblemType,
  detail: string,
  extra: { field?: string; headers?: Record<string, string>; instance?: string } = {},
): HttpResponseInit {
  return {
    status: PROBLEM_STATUS[type],
    headers: { 'content-type': 'application/problem+json', ...extra.headers },
    jsonBody: {
      type: `${PROBLEM_BASE}${type}`,
      title: PROBLEM_TITLES[type],
      status: PROBLEM_STATUS[type],
      detail,
      ...(extra.field ? { field: extra.field } : {}),
      ...(extra.instance ? { instance: extra.instance } : {}),
    } satisfies ProblemDetails,
  };
}

/** The first field named in a "field: message; …" description. */
export function firstField(detail: string): string | undefined {
  const m = /^([^:;]+):/.exec(detail);
  return m?.[1];
}
