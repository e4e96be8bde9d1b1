import { createHash } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { recordPosting, type PostingResult } from '../pipeline/recordPosting';
import type { Runtime } from '../runtime';
import { firstField, problem } from './problem';
import { parseJson, readBodyText, routeParams } from './request';
import { proposalRoute } from './routes';
import { verifySignature } from './webhookSignature';

function toResponse(r: PostingResult): HttpResponseInit {
  switch (r.kind) {
    case 'posted':
    case 'repeat':
      return { status: 200, jsonBody: r.receipt };
    case 'invalid':
      return problem('invalid-request', r.detail, { field: firstField(r.detail) });
    case 'notFound':
      return problem('not-found', r.detail);
    case 'conflict':
      return problem('conflict', r.detail);
    case 'linesMismatch':
      return problem('lines-mismatch', r.detail, { field: 'lines' });
  }
}

/**
 * The posting callback, in the order that keeps it safe: media type and size,
 * then the signature (before anything is parsed or any storage is touched),
 * then replay protection by webhook-id, then the posting itself. Only an
 * applied posting's answer is remembered: Standard Webhooks senders retry a
 * non-2xx answer with the same id, and that retry deserves a fresh look.
 */
export async function recordPostingCallback(
  request: HttpRequest,
  context: InvocationContext,
  deps: { secrets: readonly string[]; runtime: () => Promise<Runtime> },
): Promise<HttpResponseInit> {
  const body = await readBodyText(request);
  if (!body.ok) return body.response;
  const signed = verifySignature(deps.secrets, request.headers, body.value);
  if (!signed.ok) return problem('unauthorized', signed.detail, { field: signed.field });
  const params = routeParams(request, proposalRoute);
  if (!params.ok) return params.response;
  const json = parseJson(body.value);
  if (!json.ok) return json.response;

  const rt = await deps.runtime();
  const signedAt = new Date(Number(request.headers.get('webhook-timestamp')) * 1000);
  const { legalEntity, proposalId } = params.value;
  const fingerprint = createHash('sha256').update(`${legalEntity.toLowerCase()}\n${proposalId}\n${body.value}`).digest('hex');
  const claim = await rt.webhookReceipts.claim(signed.webhookId, signedAt, rt.now(), fingerprint);
  if (claim.kind === 'reused') {
    return problem(
      'webhook-id-reused',
      `webhook-id: ${signed.webhookId} was already used for a callback with another route or body; each callback needs its own id`,
      { field: 'webhook-id' },
    );
  }
  if (claim.kind === 'answered') {
    context.info(`posting callback ${signed.webhookId} already applied; answering as the first time`);
    return { status: claim.answer.status, jsonBody: claim.answer.body };
  }
  if (claim.kind === 'inProgress') {
    return problem('conflict', `webhook-id: callback ${signed.webhookId} is being processed right now; retry shortly`, {
      field: 'webhook-id',
      headers: { 'retry-after': '5' },
    });
  }
  try {
    const response = toResponse(await recordPosting(rt, legalEntity, proposalId, json.value, context));
    if ((response.status ?? 200) < 300)
      await rt.webhookReceipts.answer(signed.webhookId, signedAt, claim.etag, { status: response.status ?? 200, body: response.jsonBody });
    else await rt.webhookReceipts.release(signed.webhookId, signedAt, claim.etag);
    return response;
  } catch (e) {
    await rt.webhookReceipts.release(signed.webhookId, signedAt, claim.etag).catch(() => undefined);
    throw e;
  }
}
