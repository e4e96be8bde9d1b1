import { defineFunction } from '../shared/hosting/definition';
import { summaryAnswer } from '../shared/http/operationsApi';

/** Operations: the integration at a glance (counts per state, oldest waiting, last import, queues, paused flows). */
export default defineFunction({
  kind: 'http',
  name: 'opsSummary',
  route: 'ops/summary',
  methods: ['GET'],
  authLevel: 'function',
  handler: () => summaryAnswer(),
});
