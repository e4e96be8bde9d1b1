import type { HttpRequest } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { outOfSyncAnswer } from '../shared/http/operationsApi';

/** Operations: postings whose accounting updates are still not sent towards Dataverse hours later. */
export default defineFunction({
  kind: 'http',
  name: 'outOfSyncPostings',
  route: 'ops/out-of-sync',
  methods: ['GET'],
  authLevel: 'function',
  handler: (request: HttpRequest) => outOfSyncAnswer(request),
});
