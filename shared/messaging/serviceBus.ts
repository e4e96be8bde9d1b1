import type { ServiceBusClient, ServiceBusSender } from '@azure/service-bus';
import type { Settings } from '../config';
import { identityCredential } from '../identity';
import { serviceBusSdk } from './serviceBusSdk';
import type { AccountingUpdateSender, OutboundMessage } from './accountingUpdates';

/** A Service Bus client from a connection string or, in Azure, the managed identity. */
export function serviceBusClient(s: Settings): ServiceBusClient | undefined {
  if (s.ServiceBusConnection) return new (serviceBusSdk().ServiceBusClient)(s.ServiceBusConnection);
  const ns = s.ServiceBusConnection__fullyQualifiedNamespace;
  if (!ns) return undefined;
  return new (serviceBusSdk().ServiceBusClient)(ns, identityCredential(s, 'ServiceBusConnection'));
}

/** Sends accounting updates in as few batches as their size allows. */
export class ServiceBusOutbound implements AccountingUpdateSender {
  constructor(private readonly sender: Pick<ServiceBusSender, 'createMessageBatch' | 'sendMessages'>) {}

  async send(messages: readonly OutboundMessage[]): Promise<void> {
    let batch = await this.sender.createMessageBatch();
    for (const m of messages) {
      const message = { messageId: m.messageId, body: m.body, contentType: 'application/json', subject: 'AccountingUpdate' };
      if (batch.tryAddMessage(message)) continue;
      if (batch.count === 0) throw new Error(`accounting update ${m.messageId} is larger than a Service Bus message`);
      await this.sender.sendMessages(batch);
      batch = await this.sender.createMessageBatch();
      if (!batch.tryAddMessage(message)) throw new Error(`accounting update ${m.messageId} is larger than a Service Bus message`);
    }
    if (batch.count > 0) await this.sender.sendMessages(batch);
  }
}
