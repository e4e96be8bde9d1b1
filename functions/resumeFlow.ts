import type { HttpRequest, InvocationContext } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { flowChangeAnswer } from '../shared/http/operationsApi';

/** Operations (operator role): resumes a paused flow; it catches up on what waited. */
export default defineFunction({
  kind: 'http',
  name: 'resumeFlow',
  route: 'ops/flows/{flow}/resume',
  methods: ['POST'],
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) => flowChangeAnswer(request, context, 'resume'),
});
