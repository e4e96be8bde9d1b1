import type { HttpRequest, InvocationContext } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { flowChangeAnswer } from '../shared/http/operationsApi';

/** Operations (operator role): pauses a flow; its messages wait in their queue, its staged work stays. */
export default defineFunction({
  kind: 'http',
  name: 'pauseFlow',
  route: 'ops/flows/{flow}/pause',
  methods: ['POST'],
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) => flowChangeAnswer(request, context, 'pause'),
});
