import type { InvocationContext, Timer } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { reapplyPauses } from '../shared/http/operationsApi';
import { dispatchAccountingUpdates } from '../shared/pipeline/dispatchAccountingUpdates';
import { runtime } from '../shared/runtime';

/**
 * Step 4b: accounting updates the posting callback could not send are sent from the outbox. The same minute's
 * housekeeping applies recorded pauses again where the platform switched their functions back on.
 */
export default defineFunction({
  kind: 'timer',
  name: 'dispatchAccountingUpdates',
  scheduleSetting: 'DISPATCH_SCHEDULE',
  handler: async (_timer: Timer, context: InvocationContext) => {
    const result = await dispatchAccountingUpdates(await runtime(), context);
    if (result.postings) context.info(`Outbox: ${JSON.stringify(result)}`);
    // `azd provision` (or an edit in the portal) writes every app setting, switching paused functions on again.
    try {
      const again = await reapplyPauses();
      if (again.length) context.warn(`Paused functions had been switched on again; switched off again: ${again.join(', ')}`);
    } catch (e) {
      context.error(`Could not check that paused flows stay paused: ${(e as Error).message}`);
    }
  },
});
