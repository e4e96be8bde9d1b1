import { defineFunction } from '../shared/hosting/definition';
import { inboundHandler } from '../shared/hosting/serviceBusAdapter';
import { stageActual } from '../shared/pipeline/stageActual';
import { QUEUES, SERVICE_BUS_CONNECTION } from '../shared/queues';

/** Step 2: actuals are registered; billed sales actuals are staged for import. */
export default defineFunction({
  kind: 'serviceBus',
  name: 'syncActuals',
  queueName: QUEUES.actuals,
  connection: SERVICE_BUS_CONNECTION,
  handler: inboundHandler(QUEUES.actuals, stageActual),
});
