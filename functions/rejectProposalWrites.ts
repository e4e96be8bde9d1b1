import type { HttpRequest } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { problem } from '../shared/http/problem';

/**
 * The one-way rule on the HTTP surface: proposals are created and deleted only
 * from Dataverse. Any write to /api/invoice-proposals other than the posting
 * callback (a more specific route) lands here.
 */
export default defineFunction({
  kind: 'http',
  name: 'rejectProposalWrites',
  route: 'invoice-proposals/{*path}',
  methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'function',
  handler: async (request: HttpRequest) =>
    problem(
      'method-not-allowed',
      `${request.method} is not allowed here: project invoice proposals are created and deleted only from Dataverse (confirm or cancel the pro forma invoice there); Finance may only report a posting, with POST /api/invoice-proposals/{legalEntity}/{proposalId}/posted`,
      { headers: { allow: 'GET' } },
    ),
});
