import type { HttpResponseInit } from '@azure/functions';

/**
 * RFC 9457 problem details. `type` is stable per kind of problem, so clients can
 * branch on it; `field` names the input at fault. Never a stack trace or secret.
 */
export type ProblemType =
  | 'invalid-request'
  | 'unauthorized'
  | 'not-found'
  | 'method-not-allowed'
  | 'conflict'
  | 'lines-mismatch'
  | 'webhook-id-reused'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'misconfigured'
  | 'internal-error';

const TITLES: Record<ProblemType, string> = {
  'invalid-request': 'The request is not valid',
  unauthorized: 'The request is not authenticated',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  conflict: 'The request conflicts with the current state',
  'lines-mismatch': "The posting does not name exactly the proposal's lines",
  'webhook-id-reused': 'The webhook-id was already used for a different request',
  'payload-too-large': 'The request body is too large',
  'unsupported-media-type': 'The request body must be JSON',
  // An app setting this function needs is missing or wrong; the detail names it, never its value.
  misconfigured: 'The function is not configured to answer this request',
  'internal-error': 'Internal error',
};

const STATUS: Record<ProblemType, number> = {
  'invalid-request': 400,
  unauthorized: 401,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'lines-mismatch': 422,
  'webhook-id-reused': 422,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  misconfigured: 503,
  'internal-error': 500,
};

export const PROBLEM_BASE = 'https://project-invoice-integration/problems/';

export function problem(
  type: ProblemType,
  detail: string,
  extra: { field?: string; headers?: Record<string, string>; instance?: string } = {},
): HttpResponseInit {
  return {
    status: STATUS[type],
    headers: { 'content-type': 'application/problem+json', ...extra.headers },
    jsonBody: {
      type: `${PROBLEM_BASE}${type}`,
      title: TITLES[type],
      status: STATUS[type],
      detail,
      ...(extra.field ? { field: extra.field } : {}),
      ...(extra.instance ? { instance: extra.instance } : {}),
    },
  };
}

/** The first field named in a "field: message; …" description. */
export function firstField(detail: string): string | undefined {
  const m = /^([^:;]+):/.exec(detail);
  return m?.[1];
}
