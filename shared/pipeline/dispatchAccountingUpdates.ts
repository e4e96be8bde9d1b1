import { accountingUpdateMessage } from '../messaging/accountingUpdates';
import { isPreconditionFailed } from '../storage/conditions';
import { parseProposalPartition } from '../storage/keys';
import { allShards } from '../storage/staging';
import type { ProposalHeader } from '../domain/proposal';
import type { Logger, Runtime } from '../runtime';

/** An outbox entry whose posting never committed is dropped after this long (the callback failed and was not retried). */
const UNCOMMITTED_GRACE_MS = 60 * 60 * 1000;

export type DispatchResult = { state: 'sent' | 'nothingToSend'; sent: number } | { state: 'notCommitted'; sent: 0 };

/**
 * Sends the accounting updates of one posting that are not marked sent yet,
 * then marks them. A crash between the two sends them again: the message ids
 * are deterministic, so Service Bus duplicate detection drops the repeat.
 */
export async function dispatchPosting(rt: Runtime, proposal: string, postingId: string, known?: ProposalHeader): Promise<DispatchResult> {
  // A posted header never changes again, so one the caller has just read or written is as good as a fresh read.
  const header =
    known?.status === 'Posted' && known.posting?.postingId === postingId ? { value: known } : await rt.proposals.header(proposal);
  const posting = header?.value.posting;
  if (!header || header.value.status !== 'Posted' || posting?.postingId !== postingId) return { state: 'notCommitted', sent: 0 };
  const unsent = (await rt.proposals.postedLines(proposal, postingId)).filter((r) => !r.value.sentAt);
  if (!unsent.length) return { state: 'nothingToSend', sent: 0 };

  const { legalEntity, proposalId } = parseProposalPartition(proposal);
  const messages = unsent.map(({ value: line }) =>
    accountingUpdateMessage(
      {
        actualId: line.actualId,
        legalEntity,
        proposalId,
        invoiceId: header.value.invoice.invoiceId,
        billingStatus: 'CustomerInvoicePosted',
        customerInvoiceId: posting.customerInvoiceId,
        voucher: posting.voucher,
        accountingDate: posting.accountingDate,
        accountingCurrency: posting.accountingCurrency,
        exchangeRate: posting.exchangeRate,
        accountingAmount: line.accountingAmount,
        salesTaxAmount: line.salesTaxAmount,
      },
      postingId,
    ),
  );
  await rt.sender.send(messages);

  await rt.proposals.markSent(proposal, unsent, rt.now().toISOString());
  return { state: 'sent', sent: messages.length };
}

/** The outbox sweep (timer): sends whatever a posting callback could not, clears finished entries, and drops week-old callback receipts. */
export async function dispatchAccountingUpdates(rt: Runtime, log: Logger): Promise<{ postings: number; sent: number }> {
  let postings = 0;
  let sent = 0;
  for (const shard of allShards()) {
    for await (const entry of rt.outbox.entries(shard)) {
      const result = await dispatchPosting(rt, entry.proposal, entry.postingId);
      const expired = Date.parse(entry.createdAt) + UNCOMMITTED_GRACE_MS < rt.now().getTime();
      if (result.state === 'notCommitted' && !expired) continue; // the callback may still be committing it
      try {
        await rt.outbox.remove(entry);
      } catch (e) {
        if (!isPreconditionFailed(e)) throw e;
      }
      postings++;
      sent += result.sent;
    }
  }
  if (sent) log.info(`sent ${sent} accounting update(s) for ${postings} posting(s)`);
  const purged = await rt.webhookReceipts.purgeExpired(rt.now());
  if (purged) log.info(`dropped ${purged} posting callback receipt(s) older than a week`);
  return { postings, sent };
}
