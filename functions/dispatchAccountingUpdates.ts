import type { InvocationContext, Timer } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { dispatchAccountingUpdates } from '../shared/pipeline/dispatchAccountingUpdates';
import { runtime } from '../shared/runtime';

/** Step 4b: accounting updates the posting callback could not send are sent from the outbox. */
export default defineFunction({
  kind: 'timer',
  name: 'dispatchAccountingUpdates',
  scheduleSetting: 'DISPATCH_SCHEDULE',
  handler: async (_timer: Timer, context: InvocationContext) => {
    const result = await dispatchAccountingUpdates(await runtime(), context);
    if (result.postings) context.info(`Outbox: ${JSON.stringify(result)}`);
  },
});
