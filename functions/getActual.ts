import type { HttpRequest } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { problem } from '../shared/http/problem';
import { routeParams } from '../shared/http/request';
import { actualRoute } from '../shared/http/routes';
import { readActual } from '../shared/pipeline/readModels';
import { runtime } from '../shared/runtime';

export default defineFunction({
  kind: 'http',
  name: 'getActual',
  route: 'actuals/{legalEntity}/{actualId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: async (request: HttpRequest) => {
    const params = routeParams(request, actualRoute);
    if (!params.ok) return params.response;
    const { legalEntity, actualId } = params.value;
    const view = await readActual(await runtime(), legalEntity, actualId);
    return view
      ? { status: 200, jsonBody: view }
      : problem('not-found', `actual ${actualId} of legal entity ${legalEntity} does not exist`);
  },
});
