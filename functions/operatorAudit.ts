import type { HttpRequest } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { auditAnswer } from '../shared/http/operationsApi';

/** Operations: what operators did (retry, pause, resume, run the import), newest first. */
export default defineFunction({
  kind: 'http',
  name: 'operatorAudit',
  route: 'ops/audit',
  methods: ['GET'],
  authLevel: 'function',
  handler: (request: HttpRequest) => auditAnswer(request),
});
