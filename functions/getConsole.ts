import { defineFunction } from '../shared/hosting/definition';
import { consoleResponse } from '../shared/http/consolePage';
import { CONSOLE_ROUTE } from '../shared/http/operations';

/**
 * GET /api/console?code=<function key>: the operations console, one page that
 * reads and acts through /api/ops/… with the same key (sent as x-functions-key).
 * Operator actions additionally need the operator sign-in the page asks for.
 */
export default defineFunction({
  kind: 'http',
  name: 'getConsole',
  route: CONSOLE_ROUTE,
  methods: ['GET'],
  authLevel: 'function',
  handler: () => Promise.resolve(consoleResponse()),
});
