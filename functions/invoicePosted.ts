import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { settings } from '../shared/config';
import { defineFunction } from '../shared/hosting/definition';
import { firstField, problem } from '../shared/http/problem';
import { parseJson, readBodyText, routeParams } from '../shared/http/request';
import { proposalRoute } from '../shared/http/routes';
import { postingSecrets, verifySignature } from '../shared/http/webhookSignature';
import { postInvoice, type PostingResult } from '../shared/pipeline/postInvoice';
import { runtime } from '../shared/runtime';

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

/** Step 4: Finance posted the customer invoice; write accounting back onto the actuals. */
export default defineFunction({
  kind: 'http',
  name: 'invoicePosted',
  route: 'invoice-proposals/{legalEntity}/{proposalId}/posted',
  methods: ['POST'],
  authLevel: 'function',
  handler: async (request: HttpRequest, context: InvocationContext) => {
    const body = await readBodyText(request);
    if (!body.ok) return body.response;
    // The signature is checked before anything is parsed or stored.
    const signed = verifySignature(postingSecrets(settings().POSTING_WEBHOOK_SECRET), request.headers, body.value);
    if (!signed.ok) return problem('unauthorized', signed.detail, { field: signed.field });
    const params = routeParams(request, proposalRoute);
    if (!params.ok) return params.response;
    const json = parseJson(body.value);
    if (!json.ok) return json.response;
    const { legalEntity, proposalId } = params.value;
    return toResponse(await postInvoice(await runtime(), legalEntity, proposalId, json.value, context));
  },
});
