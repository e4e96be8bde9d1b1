import { createHash } from 'node:crypto';
import type { Posting } from '../contracts/posting';
import { actualIdsDigest, type PostingRecord, type ProposalHeader } from './proposal';

export type PostingDecision =
  | { kind: 'post'; record: PostingRecord }
  | { kind: 'repeat'; record: PostingRecord }
  | { kind: 'notFound' }
  | { kind: 'conflict'; reason: string }
  | { kind: 'linesMismatch'; reason: string; missing: string[]; unknown: string[] };

/** Same posting content, same id: the key that makes a repeated callback a no-op. */
export function postingId(p: Posting): string {
  const lines = [...p.lines].sort((a, b) => (a.actualId < b.actualId ? -1 : 1));
  const canonical = JSON.stringify([
    p.customerInvoiceId,
    p.voucher,
    p.accountingDate,
    p.accountingCurrency,
    p.exchangeRate,
    lines.map((l) => [l.actualId, l.accountingAmount, l.salesTaxAmount]),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 24);
}

function listed(ids: string[], max = 5): string {
  return ids.length > max ? `${ids.slice(0, max).join(', ')} and ${ids.length - max} more` : ids.join(', ');
}

/**
 * Whether the header alone shows that the posting names exactly the lines on show: its digest of the active
 * build's actual ids equals the posting's. Then the lines need not be read (a 10,000-line posting reads none);
 * otherwise they are, to check and to say which are missing or unknown.
 */
export function namesLinesOnShow(header: ProposalHeader, posting: Posting): boolean {
  const known = header.lineActuals;
  return (
    !!known &&
    !!header.activeBuild &&
    known.build === header.activeBuild &&
    known.digest === actualIdsDigest(posting.lines.map((l) => l.actualId))
  );
}

/** Whether Finance's posting applies to this proposal, given the actual ids on its lines. */
export function decidePosting(header: ProposalHeader | undefined, lineActualIds: readonly string[], posting: Posting): PostingDecision {
  if (!header) return { kind: 'notFound' };
  const id = postingId(posting);
  if (header.status === 'Posted' && header.posting) {
    return header.posting.postingId === id
      ? { kind: 'repeat', record: header.posting }
      : {
          kind: 'conflict',
          reason: `proposal ${header.invoice.proposalId} is already posted as customer invoice ${header.posting.customerInvoiceId} (voucher ${header.posting.voucher}); a different posting cannot replace it`,
        };
  }
  if (header.status !== 'LinesCreated') {
    return {
      kind: 'conflict',
      reason: `proposal ${header.invoice.proposalId} has no lines to post (status ${header.status}${header.reason ? `: ${header.reason}` : ''})`,
    };
  }
  const onProposal = new Set(lineActualIds);
  const posted = new Set(posting.lines.map((l) => l.actualId));
  const missing = [...onProposal].filter((id) => !posted.has(id)).sort();
  const unknown = [...posted].filter((id) => !onProposal.has(id)).sort();
  if (missing.length || unknown.length) {
    const parts = [];
    if (missing.length) parts.push(`missing proposal lines for actuals ${listed(missing)}`);
    if (unknown.length) parts.push(`actuals ${listed(unknown)} are not lines of this proposal`);
    return { kind: 'linesMismatch', reason: `lines: must name exactly the proposal's lines; ${parts.join('; ')}`, missing, unknown };
  }
  const { customerInvoiceId, voucher, accountingDate, accountingCurrency, exchangeRate } = posting;
  return { kind: 'post', record: { postingId: id, customerInvoiceId, voucher, accountingDate, accountingCurrency, exchangeRate } };
}
