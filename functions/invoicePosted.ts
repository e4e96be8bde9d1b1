import type { HttpRequest, InvocationContext } from '@azure/functions';
import { settings } from '../shared/config';
import { defineFunction } from '../shared/hosting/definition';
import { handlePostingCallback } from '../shared/http/postingCallback';
import { postingSecrets } from '../shared/http/webhookSignature';
import { runtime } from '../shared/runtime';

/** Step 4: Finance posted the customer invoice; write accounting back onto the actuals. */
export default defineFunction({
  kind: 'http',
  name: 'invoicePosted',
  route: 'invoice-proposals/{legalEntity}/{proposalId}/posted',
  methods: ['POST'],
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handlePostingCallback(request, context, { secrets: postingSecrets(settings().POSTING_WEBHOOK_SECRET), runtime }),
});
