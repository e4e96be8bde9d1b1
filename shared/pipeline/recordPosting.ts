import { describeIssues } from '../contracts/common';
import { postingSchema, type Posting } from '../contracts/posting';
import { decidePosting } from '../domain/posting';
import { invoiceTypeOf, type InvoiceType } from '../domain/views';
import type { PostingRecord, ProposalHeader } from '../domain/proposal';
import { withOptimisticRetry } from '../storage/conditions';
import { proposalPartition } from '../storage/keys';
import type { Logger, Runtime } from '../runtime';
import { dispatchPosting } from './dispatchAccountingUpdates';

export interface PostingReceipt {
  legalEntity: string;
  proposalId: string;
  status: 'Posted';
  /** A negative total posts as a credit note. */
  invoiceType: InvoiceType;
  customerInvoiceId: string;
  voucher: string;
  accountingDate: string;
  lineCount: number;
}

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

  // The header as it stands once the posting is decided (read, or as this call wrote it), for the dispatch.
  let current: ProposalHeader | undefined;
  const result = await withOptimisticRetry(`posting of ${le}/${proposalId}`, async (): Promise<PostingResult> => {
    const header = await rt.proposals.header(pk);
    current = header?.value;
    // Only a proposal with lines to post needs them read: a posted one is answered from its header.
    const build = header?.value.status === 'LinesCreated' ? header.value.activeBuild : null;
    const lines = build ? await rt.proposals.lines(pk, build) : [];
    const decision = decidePosting(
      header?.value,
      lines.map((l) => l.value.actual.actualId),
      posting,
    );
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
        await rt.outbox.add(pk, id, rt.now()); // before the commit, so the sweep finds it whatever happens next
        const posted = await rt.proposals.recordPosting(pk, header!, decision.record, posting.lines);
        current = posted;
        log.info(`proposal ${le}/${proposalId} posted as ${decision.record.customerInvoiceId}, voucher ${decision.record.voucher}`);
        return { kind: 'posted', receipt: receipt(le, proposalId, posted, decision.record, lines.length) };
      }
    }
  });

  if ((result.kind === 'posted' || result.kind === 'repeat') && current?.posting) {
    try {
      await dispatchPosting(rt, pk, current.posting.postingId, current);
    } catch (e) {
      log.warn(`accounting updates for ${le}/${proposalId} not sent yet, the outbox sweep will retry: ${(e as Error).message}`);
    }
  }
  return result;
}
