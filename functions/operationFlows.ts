import { defineFunction } from '../shared/hosting/definition';
import { flowsAnswer } from '../shared/http/operationsApi';

/** Operations: the four flows (header sync, actual sync, import, write-back), and which are paused, since when, by whom. */
export default defineFunction({
  kind: 'http',
  name: 'operationFlows',
  route: 'ops/flows',
  methods: ['GET'],
  authLevel: 'function',
  handler: () => flowsAnswer(),
});
