import type { HttpRequest, InvocationContext } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { runImportAnswer } from '../shared/http/operationsApi';

/** Operations (operator role): runs Import from staging now instead of waiting for the schedule. */
export default defineFunction({
  kind: 'http',
  name: 'runImportNow',
  route: 'ops/import',
  methods: ['POST'],
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) => runImportAnswer(request, context),
});
