import { createHash } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { chunk, MAX_BATCH } from '../storage/batches';

/**
 * The accounting update Dataverse receives for each actual on a posted invoice
 * (queue actuals-accounting-updates). The message id is derived from the
 * content's identity, so Service Bus duplicate detection drops a resend.
 */
export interface AccountingUpdate {
  actualId: string;
  legalEntity: string;
  proposalId: string;
  invoiceId: string;
  billingStatus: 'CustomerInvoicePosted';
  customerInvoiceId: string;
  voucher: string;
  accountingDate: string;
  accountingCurrency: string;
  exchangeRate: string;
  accountingAmount: string;
  salesTaxAmount: string;
}

export interface OutboundMessage {
  messageId: string;
  body: AccountingUpdate;
}

export function accountingUpdateMessage(update: AccountingUpdate, postingId: string): OutboundMessage {
  const identity = [update.legalEntity, update.proposalId, update.actualId, postingId].join('\n');
  return { messageId: `acct-${createHash('sha256').update(identity).digest('hex').slice(0, 40)}`, body: update };
}

/** The one thing the product needs from Service Bus on the way out. */
export interface AccountingUpdateSender {
  send(messages: readonly OutboundMessage[]): Promise<void>;
}

/**
 * Local stand-in for the outbound queue when no Service Bus is configured: a
 * table keyed by message id, so a resend overwrites itself exactly as duplicate
 * detection would drop it, and what was "sent" can be read back.
 */
export class TableOutbound implements AccountingUpdateSender {
  constructor(
    private readonly table: TableClient,
    private readonly queue: string,
  ) {}

  /** In transactions of up to 100 (one partition per queue), as Service Bus takes a batch in one send. */
  async send(messages: readonly OutboundMessage[]): Promise<void> {
    const byId = new Map(messages.map((m) => [m.messageId, m])); // a transaction names each row once; the last copy wins, as a resend would
    for (const batch of chunk([...byId.values()], MAX_BATCH)) {
      await this.table.submitTransaction(
        batch.map((m): TransactionAction => [
          'upsert',
          { partitionKey: this.queue, rowKey: m.messageId, body: JSON.stringify(m.body) },
          'Replace',
        ]),
      );
    }
  }

  async read(): Promise<OutboundMessage[]> {
    const out: OutboundMessage[] = [];
    const rows = this.table.listEntities<{ rowKey: string; body: string }>({
      queryOptions: { filter: odata`PartitionKey eq ${this.queue}` },
    });
    for await (const r of rows) out.push({ messageId: r.rowKey, body: JSON.parse(r.body) as AccountingUpdate });
    return out;
  }
}
