import { defineFunction } from '../shared/hosting/definition';
import { openApiDocument } from '../shared/http/openApi';
import { OPEN_API_ROUTE } from '../shared/http/operations';

/**
 * GET /api/openapi.json: the OpenAPI 3.1 document of every HTTP route.
 * Anonymous on purpose: it holds no data and no secret (what README says, as a
 * schema), and client generators and API Management import a plain URL; every
 * route it describes still needs the function key.
 */
export default defineFunction({
  kind: 'http',
  name: 'getOpenApi',
  route: OPEN_API_ROUTE,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: () => Promise.resolve({ status: 200, headers: { 'content-type': 'application/json' }, jsonBody: openApiDocument() }),
});
