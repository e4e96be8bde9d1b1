import type { HttpRequest } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { proposalsInStateAnswer } from '../shared/http/operationsApi';

/** Operations: proposals in one state (AwaitingLines, Error, LinesCreated, Posted by day), newest first, paged. */
export default defineFunction({
  kind: 'http',
  name: 'proposalsByState',
  route: 'ops/proposals',
  methods: ['GET'],
  authLevel: 'function',
  handler: (request: HttpRequest) => proposalsInStateAnswer(request),
});
