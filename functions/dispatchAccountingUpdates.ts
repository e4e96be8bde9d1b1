import type { InvocationContext, Timer } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { settings } from '../shared/config';
import { keepPausesApplied } from '../shared/operations/flowControl';
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
    const rt = await runtime();
    try {
      const result = await dispatchAccountingUpdates(rt, context);
      if (result.postings) context.info(`Outbox: ${JSON.stringify(result)}`);
    } finally {
      // Whatever the outbox did: `azd provision` (or an edit in the portal) writes every app setting, switching paused functions on again.
      await keepPausesApplied(rt, settings(), context);
    }
  },
});
