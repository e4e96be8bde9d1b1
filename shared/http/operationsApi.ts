import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { settings } from '../config';
import { DEFAULT_PAGE_SIZE, outOfSyncQuerySchema, pageQuerySchema, stateQuerySchema } from '../contracts/operations';
import { runImport } from '../operations/importRuns';
import { outOfSync } from '../operations/outOfSync';
import { pageToken, readPageToken } from '../operations/pageTokens';
import { proposalsInState } from '../operations/stateLists';
import { summarySources } from '../operations/sources';
import { summary } from '../operations/summary';
import { runtime } from '../runtime';
import { operatorAction } from './operatorAction';
import { problem } from './problem';
import { queryParams } from './request';

/**
 * The operations API's handlers (docs/operations.md): each function in
 * functions/ops*.ts hands its request here. Reads need the function key only;
 * actions go through operatorAction (role check and audit).
 */

export async function summaryAnswer(): Promise<HttpResponseInit> {
  const sources = summarySources(settings(), async () => []);
  return { status: 200, jsonBody: await summary(await runtime(), sources) };
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

/** Runs Import from staging now, unless the import is paused (then it would not be a pause). */
export async function runImportAnswer(
  request: HttpRequest,
  context: InvocationContext,
  importPaused: () => Promise<boolean>,
): Promise<HttpResponseInit> {
  const rt = await runtime();
  return operatorAction(request, rt, settings(), context, { action: 'run-import', target: 'import' }, async () => {
    if (await importPaused()) {
      const detail = 'the import is paused; resume it first (nothing was run)';
      return { response: problem('flow-paused', detail, { field: 'flow' }), outcome: 'refused', detail };
    }
    const { summary: s, run } = await runImport(rt, 'operator', context);
    return { response: { status: 200, jsonBody: { summary: s, run } }, outcome: 'succeeded', detail: run.detail };
  });
}
