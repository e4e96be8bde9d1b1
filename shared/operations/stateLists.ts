import type { ProposalStatus } from '../contracts/answers';
import type { ListedProposal, ProposalList } from '../contracts/operations';
import type { ProposalHeader } from '../domain/proposal';
import { parseProposalPartition } from '../storage/keys';
import { statePartition, type StateEntry } from '../storage/proposalStates';
import { inParallel } from '../pipeline/inParallel';
import type { Runtime } from '../runtime';
import { pageToken, readPageToken } from './pageTokens';

/** The header still in the state an index entry names, or undefined when the entry is stale. */
async function current(rt: Runtime, status: ProposalStatus, e: StateEntry): Promise<ProposalHeader | undefined> {
  const h = (await rt.proposals.header(e.proposal))?.value;
  return h && h.status === status && h.stateSince === e.since ? h : undefined;
}

function listed(h: ProposalHeader, now: Date): ListedProposal {
  const since = h.stateSince!;
  return {
    legalEntity: h.invoice.legalEntity,
    proposalId: h.invoice.proposalId,
    invoiceId: h.invoice.invoiceId,
    customerAccount: h.invoice.customerAccount,
    status: h.status,
    reason: h.reason,
    since,
    ageSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 1000)),
    currency: h.invoice.currency,
    totalAmount: h.invoice.totalAmount,
    lineCount: h.lineCount,
    transactionCount: h.invoice.transactionCount,
  };
}

export type StateListResult = { ok: true; list: ProposalList } | { ok: false; field: 'pageToken'; detail: string };

/**
 * One page of the proposals in a state, newest first. Each entry of the index
 * is checked against its proposal's header (a point read each, so the cost is
 * the page's); an entry whose proposal has moved on is left out and deleted.
 * A page may so show fewer than `pageSize` proposals; the token goes on.
 */
export async function proposalsInState(
  rt: Runtime,
  status: ProposalStatus,
  day: string | undefined,
  pageSize: number,
  token: string | undefined,
): Promise<StateListResult> {
  const shownDay = status === 'Posted' ? (day ?? rt.now().toISOString().slice(0, 10)) : null;
  const partition = statePartition(status, shownDay ?? '');
  const read = readPageToken(token, partition);
  if (!read.ok) return { ok: false, field: 'pageToken', detail: read.detail };
  const page = await rt.states.page(partition, pageSize, read.continuation);
  const now = rt.now();
  const checked = await Promise.all(
    page.entries.map(async (e) => {
      const h = await current(rt, status, e);
      if (!h) await rt.states.drop(partition, e.rowKey);
      return h && listed(h, now);
    }),
  );
  return {
    ok: true,
    list: { state: status, day: shownDay, items: checked.filter((x) => x !== undefined), nextPageToken: pageToken(partition, page.next) },
  };
}

export interface StateCount {
  count: number;
  oldest: { legalEntity: string; proposalId: string; since: string; reason: string | null } | undefined;
}

/** Entries checked against their proposals for a count; past this many, the rest are counted unchecked. */
export const CHECKED_PER_COUNT = 500;

/**
 * How many proposals are in a state, and the oldest of them: the index's
 * entries, each checked against its header as the lists do (and dropped when
 * stale), so the count never includes a proposal that has moved on. Beyond
 * CHECKED_PER_COUNT entries the remainder is counted as the index holds it.
 */
export async function countInState(rt: Runtime, status: ProposalStatus, day?: string): Promise<StateCount> {
  const partition = statePartition(status, day ?? '');
  const { entries, more } = await rt.states.entries(partition, CHECKED_PER_COUNT);
  const live: { entry: StateEntry; header: ProposalHeader }[] = [];
  await inParallel(entries, 16, async (e) => {
    const h = await current(rt, status, e);
    if (h) live.push({ entry: e, header: h });
    else await rt.states.drop(partition, e.rowKey);
  });
  const oldest = live.reduce<(typeof live)[number] | undefined>((o, x) => (!o || x.entry.since < o.entry.since ? x : o), undefined);
  if (!oldest) return { count: live.length + more, oldest: undefined };
  const { legalEntity, proposalId } = parseProposalPartition(oldest.entry.proposal);
  return { count: live.length + more, oldest: { legalEntity, proposalId, since: oldest.entry.since, reason: oldest.header.reason } };
}
