import type { InvocationContext, Timer } from '@azure/functions';
import { defineFunction } from '../shared/hosting/definition';
import { runImport } from '../shared/operations/importRuns';
import { runtime } from '../shared/runtime';

/** Step 3: staged billed sales actuals become proposal lines, all at once per proposal. */
export default defineFunction({
  kind: 'timer',
  name: 'importFromStaging',
  scheduleSetting: 'IMPORT_SCHEDULE',
  handler: async (timer: Timer, context: InvocationContext) => {
    if (timer.isPastDue) context.warn('Import from staging is running late (a scheduled run was missed)');
    const { summary } = await runImport(await runtime(), 'schedule', context);
    context.info(`Import from staging: ${JSON.stringify(summary)}`);
  },
});
