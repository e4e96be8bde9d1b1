import type { AccountingUpdateSender, OutboundMessage } from '../shared/messaging/accountingUpdates';
import type { ImportRequestSender, ScheduledImportRequest } from '../shared/messaging/importRequests';
import type { LocalQueues } from './localQueues';

/**
 * Without a Service Bus namespace the product keeps its accounting updates in
 * the localOutbound table (readable at /admin/local/outbound). When the
 * write-back function runs on this host too, the updates must also reach its
 * queue, as Service Bus would deliver them: this sender does both.
 */
export class LocalAccountingQueue implements AccountingUpdateSender {
  constructor(
    private readonly kept: AccountingUpdateSender,
    private readonly queues: LocalQueues,
    private readonly queue: string,
    private readonly arrived: () => void,
  ) {}

  async send(messages: readonly OutboundMessage[]): Promise<void> {
    await this.kept.send(messages);
    for (const m of messages) await this.queues.enqueue(this.queue, JSON.stringify(m.body), m.messageId);
    this.arrived();
  }
}

/** Without a Service Bus namespace, import requests go to the importProposal function through its local queue. */
export class LocalImportRequests implements ImportRequestSender {
  constructor(
    private readonly queues: LocalQueues,
    private readonly queue: string,
  ) {}

  async send(r: ScheduledImportRequest): Promise<void> {
    await this.queues.schedule(this.queue, JSON.stringify(r.body), r.messageId, r.at);
  }
}
