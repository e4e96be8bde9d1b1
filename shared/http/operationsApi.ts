import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { settings, type Settings } from '../config';
import {
  DEFAULT_PAGE_SIZE,
  messagesQuerySchema,
  outOfSyncQuerySchema,
  pageQuerySchema,
  retryRequestSchema,
  stateQuerySchema,
} from '../contracts/operations';
import { runtimeFlowControl, type FlowControl } from '../operations/flowControl';
import { runImport } from '../operations/importRuns';
import { outOfSync } from '../operations/outOfSync';
import { pageToken, readPageToken } from '../operations/pageTokens';
import { proposalsInState } from '../operations/stateLists';
import { summarySources } from '../operations/sources';
import { summary, type SummarySources } from '../operations/summary';
import { runtime } from '../runtime';
import { operatorAction } from './operatorAction';
import { firstField, problem } from './problem';
import { parseJson, queryParams, readBodyText } from './request';
import { describeIssues } from '../contracts/common';
import { createMessageOperations, PageTokenError, type MessageOperations, type RetryResult } from '../operations/messages';

/**
 * The operations API's handlers (docs/operations.md): each function in
 * functions/ops*.ts hands its request here. Reads need the function key only;
 * actions go through operatorAction (role check and audit).
 */

/** The value `map` keeps for `key`, made once. */
function keptFor<K extends object, V>(map: WeakMap<K, V>, key: K, make: () => V): V {
  if (!map.has(key)) map.set(key, make());
  return map.get(key)!;
}

async function flows(): Promise<FlowControl> {
  return runtimeFlowControl(await runtime(), settings());
}

const sources = new WeakMap<FlowControl, SummarySources>();
async function summaryInputs(): Promise<SummarySources> {
  const fc = await flows();
  return keptFor(sources, fc, () => summarySources(settings(), () => fc.flows()));
}

export async function summaryAnswer(): Promise<HttpResponseInit> {
  return { status: 200, jsonBody: await summary(await runtime(), await summaryInputs()) };
}

export async function flowsAnswer(): Promise<HttpResponseInit> {
  return { status: 200, jsonBody: { flows: await (await flows()).flows() } };
}

/** Pauses or resumes one flow; the answer is the flow as it now stands, or a problem saying why not. */
export async function flowChangeAnswer(
  request: HttpRequest,
  context: InvocationContext,
  change: 'pause' | 'resume',
): Promise<HttpResponseInit> {
  const name = request.params.flow ?? '';
  const rt = await runtime();
  return operatorAction(request, rt, settings(), context, { action: change, target: name.slice(0, 100) }, async (operator) => {
    const fc = await flows();
    const r = change === 'pause' ? await fc.pause(name, operator.who) : await fc.resume(name, operator.who);
    switch (r.outcome) {
      case 'paused':
      case 'resumed':
        return { response: { status: 200, jsonBody: r.flow }, outcome: 'succeeded', detail: `${r.flow.label}: ${r.outcome}` };
      case 'unknown-flow':
        return { response: problem('not-found', `flow: ${r.detail}`, { field: 'flow' }), outcome: 'refused', detail: r.detail };
      case 'already-paused':
      case 'not-paused':
        return { response: problem(r.outcome, r.detail, { field: 'flow' }), outcome: 'refused', detail: r.detail };
      case 'switch-failed':
        return { response: problem('switch-failed', r.detail), outcome: 'failed', detail: r.detail };
    }
  });
}

export async function proposalsInStateAnswer(request: HttpRequest): Promise<HttpResponseInit> {
  const q = queryParams(request, stateQuerySchema);
  if (!q.ok) return q.response;
  const { state, day, pageSize, pageToken: token } = q.value;
  if (day && state !== 'Posted') return problem('invalid-request', 'day: only the Posted list is by day', { field: 'day' });
  const result = await proposalsInState(await runtime(), state, day, pageSize ?? DEFAULT_PAGE_SIZE, token);
  if (!result.ok) return problem('invalid-request', result.detail, { field: result.field });
  return { status: 200, jsonBody: result.list };
}

export async function outOfSyncAnswer(request: HttpRequest): Promise<HttpResponseInit> {
  const q = queryParams(request, outOfSyncQuerySchema);
  if (!q.ok) return q.response;
  return { status: 200, jsonBody: await outOfSync(await runtime(), q.value.olderThanHours ?? settings().OUT_OF_SYNC_HOURS) };
}

export async function auditAnswer(request: HttpRequest): Promise<HttpResponseInit> {
  const q = queryParams(request, pageQuerySchema);
  if (!q.ok) return q.response;
  const read = readPageToken(q.value.pageToken, 'audit');
  if (!read.ok) return problem('invalid-request', read.detail, { field: 'pageToken' });
  const page = await (await runtime()).operatorActions.page(q.value.pageSize ?? DEFAULT_PAGE_SIZE, read.continuation);
  return { status: 200, jsonBody: { items: page.items, nextPageToken: pageToken('audit', page.next) } };
}

/** One per settings (it holds a Service Bus client when one is configured); new settings, a new one. */
const messageOperationsOf = new WeakMap<Settings, MessageOperations>();
function messageOperations(): MessageOperations {
  const s = settings();
  return keptFor(messageOperationsOf, s, () => createMessageOperations(s).operations);
}

export async function messagesAnswer(request: HttpRequest): Promise<HttpResponseInit> {
  const q = queryParams(request, messagesQuerySchema);
  if (!q.ok) return q.response;
  try {
    return { status: 200, jsonBody: await messageOperations().list(q.value) };
  } catch (e) {
    if (e instanceof PageTokenError)
      return problem('invalid-request', `pageToken: ${e.message.replace(/^pageToken /, '')}`, { field: 'pageToken' });
    throw e;
  }
}

/**
 * Some retried: 200 with each message's outcome. None retried: a problem
 * (404 when none was found, 409 when each was refused or failed) that says why
 * for each, with the same per-message results as an extension member.
 */
function retryResponse(results: RetryResult[]): HttpResponseInit {
  if (results.some((r) => r.outcome === 'retried')) return { status: 200, jsonBody: { results } };
  const detail = results.map((r) => `${r.id} ${r.outcome}: ${r.detail}`).join('; ');
  const answer = problem(results.every((r) => r.outcome === 'not-found') ? 'not-found' : 'conflict', `ids: ${detail}`, { field: 'ids' });
  return { ...answer, jsonBody: { ...(answer.jsonBody as object), results } };
}

/** Retries quarantined or dead-lettered messages, each at most once; the answer says what became of each. */
export async function retryAnswer(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const body = await readBodyText(request);
  if (!body.ok) return body.response;
  const json = parseJson(body.value);
  if (!json.ok) return json.response;
  const parsed = retryRequestSchema.safeParse(json.value);
  if (!parsed.success) {
    const detail = describeIssues(parsed.error);
    return problem('invalid-request', detail, { field: firstField(detail) });
  }
  const ids = parsed.data.ids;
  const rt = await runtime();
  return operatorAction(request, rt, settings(), context, { action: 'retry', target: ids.join(', ') }, async (operator) => {
    const results = await messageOperations().retry(ids, operator.who);
    const detail = results.map((r) => `${r.id}: ${r.outcome}${r.outcome === 'retried' ? '' : ` (${r.detail})`}`).join('; ');
    const outcome = results.some((r) => r.outcome === 'failed')
      ? 'failed'
      : results.every((r) => r.outcome === 'retried')
        ? 'succeeded'
        : 'refused';
    return { response: retryResponse(results), outcome, detail };
  });
}

/** Runs Import from staging now, unless the import is paused (then it would not be a pause). */
export async function runImportAnswer(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const rt = await runtime();
  return operatorAction(request, rt, settings(), context, { action: 'run-import', target: 'import' }, async () => {
    if (await (await flows()).isPaused('import')) {
      const detail = 'the import is paused; resume it first (nothing was run)';
      return { response: problem('flow-paused', detail, { field: 'flow' }), outcome: 'refused', detail };
    }
    const { summary: s, run } = await runImport(rt, 'operator', context);
    return { response: { status: 200, jsonBody: { summary: s, run } }, outcome: 'succeeded', detail: run.detail };
  });
}
