import type { HttpRequest } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { problem } from '../shared/http/problem';
import { routeParams } from '../shared/http/request';
import { proposalRoute } from '../shared/http/routes';
import { readProposal } from '../shared/pipeline/readModels';
import { runtime } from '../shared/runtime';

export default defineFunction({
  kind: 'http',
  name: 'getInvoiceProposal',
  route: 'invoice-proposals/{legalEntity}/{proposalId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: async (request: HttpRequest) => {
    const params = routeParams(request, proposalRoute);
    if (!params.ok) return params.response;
    const { legalEntity, proposalId } = params.value;
    const view = await readProposal(await runtime(), legalEntity, proposalId);
    return view
      ? { status: 200, jsonBody: view }
      : problem('not-found', `proposal ${proposalId} of legal entity ${legalEntity} does not exist`);
  },
});
