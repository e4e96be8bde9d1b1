import type { PostingReceipt } from '../contracts/answers';
import { describeIssues } from '../contracts/common';
import { postingSchema, type Posting } from '../contracts/posting';
import { decidePosting, namesLinesOnShow } from '../domain/posting';
import { invoiceTypeOf } from '../domain/views';
import type { PostingRecord, ProposalHeader } from '../domain/proposal';
import { withOptimisticRetry } from '../storage/conditions';
import type { OutboxEntryKey } from '../storage/outbox';
import { proposalPartition } from '../storage/keys';
import type { Logger, Runtime } from '../runtime';
import { accountingUpdates } from './dispatchAccountingUpdates';

/**
 * A posting of up to this many lines sends its accounting updates before it
 * answers (one Service Bus batch or a few); a larger one answers Finance once
 * committed and leaves the sending to the outbox sweep, so the callback's answer
 * does not grow with the invoice.
 */
export const SEND_WITH_ANSWER_MAX_LINES = 1_000;

/** Its shape is a schema in contracts/answers.ts, so the OpenAPI document shows it. */
export type { PostingReceipt };

export type PostingResult =
  | { kind: 'posted' | 'repeat'; receipt: PostingReceipt }
  | { kind: 'invalid'; detail: string }
  | { kind: 'notFound'; detail: string }
  | { kind: 'conflict'; detail: string }
  | { kind: 'linesMismatch'; detail: string };

function receipt(legalEntity: string, proposalId: string, h: ProposalHeader, r: PostingRecord, lineCount: number): PostingReceipt {
  return {
    legalEntity,
    proposalId,
    status: 'Posted',
    invoiceType: invoiceTypeOf(h),
    customerInvoiceId: r.customerInvoiceId,
    voucher: r.voucher,
    accountingDate: r.accountingDate,
    lineCount,
  };
}

/**
 * recordPosting: Finance posted the customer invoice. The accounting details of
 * every line, the outbox of updates for Dataverse and the header's Posted
 * status are committed together (the header last, with its ETag); then the
 * updates are sent. A failed send loses nothing: the outbox sweep sends later.
 */
export async function recordPosting(
  rt: Runtime,
  legalEntity: string,
  proposalId: string,
  body: unknown,
  log: Logger,
): Promise<PostingResult> {
  const parsed = postingSchema.safeParse(body);
  if (!parsed.success) return { kind: 'invalid', detail: describeIssues(parsed.error) };
  const posting: Posting = parsed.data;
  const le = legalEntity.toLowerCase();
  const pk = proposalPartition(le, proposalId);

  // What this call committed, if it committed a posting: its updates are sent from memory, with no read back.
  let committed: { header: ProposalHeader; outbox: OutboxEntryKey | undefined } | undefined;
  const result = await withOptimisticRetry(`posting of ${le}/${proposalId}`, async (): Promise<PostingResult> => {
    const header = await rt.proposals.header(pk);
    // The lines are read only when the header cannot vouch for them: a posting naming other actuals (to say which),
    // or a header written before it kept their digest. A posted proposal is answered from its header alone.
    const build = header?.value.status === 'LinesCreated' ? header.value.activeBuild : null;
    const lineIds =
      build && !namesLinesOnShow(header!.value, posting)
        ? (await rt.proposals.lines(pk, build)).map((l) => l.actual.actualId)
        : posting.lines.map((l) => l.actualId);
    const decision = decidePosting(header?.value, lineIds, posting);
    switch (decision.kind) {
      case 'notFound':
        return { kind: 'notFound', detail: `proposal ${proposalId} of legal entity ${le} does not exist` };
      case 'conflict':
      case 'linesMismatch':
        return { kind: decision.kind, detail: decision.reason };
      case 'repeat':
        return { kind: 'repeat', receipt: receipt(le, proposalId, header!.value, decision.record, header!.value.lineCount) };
      case 'post': {
        const id = decision.record.postingId;
        const outbox = await rt.outbox.add(pk, id, rt.now()); // before the commit, so the sweep finds it whatever happens next
        const posted = await rt.proposals.recordPosting(pk, header!, decision.record, posting.lines);
        committed = { header: posted, outbox };
        log.info(`proposal ${le}/${proposalId} posted as ${decision.record.customerInvoiceId}, voucher ${decision.record.voucher}`);
        return { kind: 'posted', receipt: receipt(le, proposalId, posted, decision.record, header!.value.lineCount) };
      }
    }
  });

  // Finance waits for the answer: a large posting's updates go out with the next outbox sweep instead.
  if (committed && posting.lines.length <= SEND_WITH_ANSWER_MAX_LINES) {
    try {
      await rt.sender.send(accountingUpdates(pk, committed.header, posting.lines));
      // The posting's one "sent" mark: its outbox entry goes, so the sweep has nothing left to do for it.
      if (committed.outbox) await rt.outbox.remove(committed.outbox);
    } catch (e) {
      log.warn(`accounting updates for ${le}/${proposalId} not sent yet, the outbox sweep will retry: ${(e as Error).message}`);
    }
  }
  return result;
}
