import type { InvocationContext } from '@azure/functions';
import { settings } from '../shared/config';
import { defineFunction } from '../shared/hosting/definition';
import { inboundHandler } from '../shared/hosting/serviceBusAdapter';
import { importRequested } from '../shared/pipeline/importRequest';
import { QUEUES, SERVICE_BUS_CONNECTION } from '../shared/queues';

const imports = inboundHandler(QUEUES.importRequests, importRequested);

/** Step 3, fast path: one proposal imported seconds after its last actual or header was staged (IMPORT_FAST_PATH). */
export default defineFunction({
  kind: 'serviceBus',
  name: 'importProposal',
  queueName: QUEUES.importRequests,
  connection: SERVICE_BUS_CONNECTION,
  handler: async (message: unknown, context: InvocationContext) => {
    // A request sent before the fast path was turned off completes unread: the lines wait for IMPORT_SCHEDULE.
    if (!settings().IMPORT_FAST_PATH) return context.info('IMPORT_FAST_PATH is off: import request left to the scheduled import');
    await imports(message, context);
  },
});
