import type { HttpRequest, InvocationContext } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { retryAnswer } from '../shared/http/operationsApi';

/** Operations (operator role): sends quarantined or dead-lettered messages again, each at most once. */
export default defineFunction({
  kind: 'http',
  name: 'retryMessages',
  route: 'ops/messages/retry',
  methods: ['POST'],
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) => retryAnswer(request, context),
});
