import { defineFunction } from '../shared/hosting/definition';
import { inboundHandler } from '../shared/hosting/serviceBusAdapter';
import { syncInvoiceProposal } from '../shared/pipeline/syncInvoiceProposal';
import { QUEUES, SERVICE_BUS_CONNECTION } from '../shared/queues';

/** Step 1: a confirmed pro forma invoice becomes a project invoice proposal. */
export default defineFunction({
  kind: 'serviceBus',
  name: 'syncInvoiceProposal',
  queueName: QUEUES.proposals,
  connection: SERVICE_BUS_CONNECTION,
  handler: inboundHandler(QUEUES.proposals, syncInvoiceProposal),
});
