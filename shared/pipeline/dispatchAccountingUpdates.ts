import type { PostingLine } from '../contracts/posting';
import type { ProposalHeader } from '../domain/proposal';
import { accountingUpdateMessage, type OutboundMessage } from '../messaging/accountingUpdates';
import { isPreconditionFailed } from '../storage/conditions';
import { parseProposalPartition } from '../storage/keys';
import type { Logger, Runtime } from '../runtime';

/** An outbox entry whose posting never committed is dropped after this long (the callback failed and was not retried). */
const UNCOMMITTED_GRACE_MS = 60 * 60 * 1000;

export type DispatchResult = { state: 'sent'; sent: number } | { state: 'notCommitted'; sent: 0 };

/**
 * One accounting update per line of a posted proposal. The message ids are
 * deterministic, so sending a posting's updates again (after a crash, or by the
 * sweep after a failed send) is dropped by Service Bus duplicate detection.
 */
export function accountingUpdates(proposal: string, header: ProposalHeader, lines: readonly PostingLine[]): OutboundMessage[] {
  const posting = header.posting!;
  const { legalEntity, proposalId } = parseProposalPartition(proposal);
  return lines.map((line) =>
    accountingUpdateMessage(
      {
        actualId: line.actualId,
        legalEntity,
        proposalId,
        invoiceId: header.invoice.invoiceId,
        billingStatus: 'CustomerInvoicePosted',
        customerInvoiceId: posting.customerInvoiceId,
        voucher: posting.voucher,
        accountingDate: posting.accountingDate,
        accountingCurrency: posting.accountingCurrency,
        exchangeRate: posting.exchangeRate,
        accountingAmount: line.accountingAmount,
        salesTaxAmount: line.salesTaxAmount,
      },
      posting.postingId,
    ),
  );
}

/**
 * Sends every accounting update of one posting, read back from its posted
 * rows: what the sweep does for a posting whose callback could not send them
 * (or did not try: a very large one answers Finance first).
 */
export async function dispatchPosting(rt: Runtime, proposal: string, postingId: string): Promise<DispatchResult> {
  const header = await rt.proposals.header(proposal);
  if (header?.value.status !== 'Posted' || header.value.posting?.postingId !== postingId) return { state: 'notCommitted', sent: 0 };
  const rows = await rt.proposals.postedLines(proposal, postingId);
  const messages = accountingUpdates(proposal, header.value, rows);
  await rt.sender.send(messages);
  return { state: 'sent', sent: messages.length };
}

/** The outbox sweep (timer): sends whatever a posting callback could not, clears finished entries, and drops week-old callback receipts. */
export async function dispatchAccountingUpdates(rt: Runtime, log: Logger): Promise<{ postings: number; sent: number }> {
  let postings = 0;
  let sent = 0;
  for await (const entry of rt.outbox.entries()) {
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
  if (sent) log.info(`sent ${sent} accounting update(s) for ${postings} posting(s)`);
  const purged = await rt.webhookReceipts.purgeExpired(rt.now());
  if (purged) log.info(`dropped ${purged} posting callback receipt(s) older than a week`);
  return { postings, sent };
}
