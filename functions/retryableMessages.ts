import type { HttpRequest } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { messagesAnswer } from '../shared/http/operationsApi';

/** Operations: quarantined or dead-lettered messages, with their reasons, page by page. */
export default defineFunction({
  kind: 'http',
  name: 'retryableMessages',
  route: 'ops/messages',
  methods: ['GET'],
  authLevel: 'function',
  handler: (request: HttpRequest) => messagesAnswer(request),
});
