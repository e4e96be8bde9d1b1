import { defineFunction } from '../shared/hosting/definition';
import { inboundBatchHandler } from '../shared/hosting/serviceBusAdapter';
import { stageActuals } from '../shared/pipeline/stageActual';
import { QUEUES, SERVICE_BUS_CONNECTION } from '../shared/queues';

/** Step 2: actuals are registered; billed sales actuals are staged for import. */
export default defineFunction({
  kind: 'serviceBus',
  name: 'syncActuals',
  queueName: QUEUES.actuals,
  connection: SERVICE_BUS_CONNECTION,
  // Many per invocation: each is registered on its own, then the batch's staged rows go together,
  // one transaction per staging shard (the actuals a confirmation creates arrive together).
  cardinality: 'many',
  handler: inboundBatchHandler(QUEUES.actuals, stageActuals),
});
