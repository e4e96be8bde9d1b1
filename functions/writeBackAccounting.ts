import { defineFunction } from '../shared/hosting/definition';
import { inboundBatchHandler } from '../shared/hosting/serviceBusAdapter';
import { writeBackDeliveries } from '../shared/pipeline/writeBackAccounting';
import { QUEUES, SERVICE_BUS_CONNECTION } from '../shared/queues';

/**
 * Step 5: the accounting details of posted actuals are written onto their
 * msdyn_actual rows through the Dataverse Web API. Runs only with
 * DATAVERSE_URL set; without it the app setting
 * AzureWebJobs.writeBackAccounting.Disabled=true keeps the function from
 * receiving, so the updates stay on the queue for whoever reads them today.
 */
export default defineFunction({
  kind: 'serviceBus',
  name: 'writeBackAccounting',
  queueName: QUEUES.accountingUpdates,
  connection: SERVICE_BUS_CONNECTION,
  // Many updates per invocation, so they go to Dataverse together: up to 100 PATCHes per $batch request.
  cardinality: 'many',
  handler: inboundBatchHandler(QUEUES.accountingUpdates, writeBackDeliveries),
});
