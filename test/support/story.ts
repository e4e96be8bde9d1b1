import type { HttpResponseInit } from '@azure/functions';
import getActual from '../../functions/getActual';
import getInvoiceProposal from '../../functions/getInvoiceProposal';
import importFunction from '../../functions/importFromStaging';
import recordPosting from '../../functions/recordPosting';
import rejectProposalWrites from '../../functions/rejectProposalWrites';
import syncActuals from '../../functions/syncActuals';
import syncInvoiceProposal from '../../functions/syncInvoiceProposal';
import type { HttpFunction } from '../../shared/hosting/definition';
import type { Posting } from '../../shared/contracts/posting';
import { deliverMessage, httpRequest, serviceBusContext } from './builders';
import { signedHeaders } from './posting';

/** Drives the real function handlers the way the Functions host would. */
export const timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

let seq = 0;
export const sendHeader = (body: unknown, messageId = `h-${++seq}`) =>
  syncInvoiceProposal.handler(typeof body === 'string' ? body : JSON.stringify(body), serviceBusContext(messageId));
export const sendActual = (body: unknown, messageId = `a-${++seq}`) =>
  deliverMessage(syncActuals, typeof body === 'string' ? body : JSON.stringify(body), messageId);
export const runImport = () => importFunction.handler(timer, serviceBusContext());

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, string>;
}

export async function callHttp(fn: HttpFunction, init: Parameters<typeof httpRequest>[0]): Promise<Answer> {
  const r = (await fn.handler(httpRequest(init), serviceBusContext())) as HttpResponseInit;
  return { status: r.status ?? 200, body: r.jsonBody, headers: (r.headers ?? {}) as Record<string, string> };
}

export const getProposal = (legalEntity: string, proposalId: string) =>
  callHttp(getInvoiceProposal, { method: 'GET', url: 'http://localhost/api', params: { legalEntity, proposalId } });

export const getActualView = (legalEntity: string, actualId: string) =>
  callHttp(getActual, { method: 'GET', url: 'http://localhost/api', params: { legalEntity, actualId } });

export function post(legalEntity: string, proposalId: string, posting: Posting | string, headers?: Record<string, string>) {
  const body = typeof posting === 'string' ? posting : JSON.stringify(posting);
  return callHttp(recordPosting, {
    method: 'POST',
    url: 'http://localhost/api',
    params: { legalEntity, proposalId },
    body,
    headers: headers ?? signedHeaders(body),
  });
}

export const writeProposal = (method: string, path: string) =>
  callHttp(rejectProposalWrites, { method, url: `http://localhost/api/invoice-proposals/${path}`, params: { path } });
