import type { HttpRequest, InvocationContext } from '@azure/functions';
import { checkPostingSecrets, settings } from '../shared/config';
import { defineFunction } from '../shared/hosting/definition';
import { recordPostingCallback } from '../shared/http/postingCallback';
import { problem } from '../shared/http/problem';
import { runtime } from '../shared/runtime';

/** Step 4: Finance posted the customer invoice; write accounting back onto the actuals. */
export default defineFunction({
  kind: 'http',
  name: 'recordPosting',
  route: 'invoice-proposals/{legalEntity}/{proposalId}/posted',
  methods: ['POST'],
  authLevel: 'function',
  handler: async (request: HttpRequest, context: InvocationContext) => {
    // Checked here, not at start-up: a bad secret fails this callback alone (503, so Finance retries).
    const posting = checkPostingSecrets(settings());
    if (!posting.ok) {
      context.error(`recordPosting cannot verify callbacks: ${posting.detail}`);
      return problem('misconfigured', posting.detail);
    }
    return recordPostingCallback(request, context, { secrets: posting.secrets, runtime });
  },
});
