import { createHash } from 'node:crypto';
import type { ConfirmedInvoice } from '../contracts/invoiceProposal';
import type { ProposalStatus } from '../contracts/answers';
import { sameAmount } from '../contracts/money';

/** Its values are a schema in contracts/answers.ts: the read view shows them. */
export type { ProposalStatus };

/** Accounting details Finance sent when it posted the customer invoice. */
export interface PostingRecord {
  postingId: string;
  customerInvoiceId: string;
  voucher: string;
  accountingDate: string;
  accountingCurrency: string;
  exchangeRate: string;
}

/** The project invoice proposal's header: the confirmed invoice plus what the integration made of it. */
export interface ProposalHeader {
  invoice: ConfirmedInvoice;
  status: ProposalStatus;
  reason: string | null;
  /** Which set of line rows is the proposal's lines (see docs/storage.md, "builds"). */
  activeBuild: string | null;
  lineCount: number;
  /**
   * A digest of the actual ids the lines of `build` carry, written with the header that makes that build
   * active: a posting that names exactly those ids is checked against it without reading the lines. Used only
   * while `build` is the active build; absent on headers written before it existed (their lines are read).
   */
  lineActuals?: { build: string; digest: string };
  posting: PostingRecord | null;
  /**
   * When the proposal entered its status (ISO), stamped by the store on the
   * write that changes the status: the operations lists' age and order. Absent
   * on headers written before the state index existed.
   */
  stateSince?: string;
}

export type HeaderDecision =
  | { kind: 'create'; header: ProposalHeader }
  | { kind: 'update'; header: ProposalHeader }
  | { kind: 'duplicate' }
  | { kind: 'stale'; storedVersion: number }
  | { kind: 'reject'; reason: string };

export function awaitingReason(staged: number, expected: number): string {
  return `waiting for billed sales actuals: ${staged} of ${expected} staged`;
}

function sameInvoice(a: ConfirmedInvoice, b: ConfirmedInvoice): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ConfirmedInvoice>;
  return [...keys].every((k) => a[k] === b[k]);
}

/**
 * What a delivered confirmed invoice does to the stored header. Higher version
 * wins; a stale one is ignored; a posted proposal never changes. The status is
 * left for Import from staging to re-evaluate, so the outcome does not depend on
 * whether the header or its actuals came first.
 */
export function decideHeader(stored: ProposalHeader | undefined, incoming: ConfirmedInvoice): HeaderDecision {
  if (!stored) {
    return {
      kind: 'create',
      header: {
        invoice: incoming,
        status: 'AwaitingLines',
        reason: awaitingReason(0, incoming.transactionCount),
        activeBuild: null,
        lineCount: 0,
        posting: null,
      },
    };
  }
  const storedVersion = stored.invoice.version;
  if (incoming.version < storedVersion) return { kind: 'stale', storedVersion };
  if (incoming.version === storedVersion) {
    return sameInvoice(stored.invoice, incoming)
      ? { kind: 'duplicate' }
      : { kind: 'reject', reason: `version ${incoming.version} was already received with different content` };
  }
  if (stored.status === 'Posted') {
    return {
      kind: 'reject',
      reason: `proposal ${stored.invoice.proposalId} is already posted (voucher ${stored.posting?.voucher}); a posted proposal cannot change`,
    };
  }
  if (incoming.invoiceId !== stored.invoice.invoiceId) {
    return {
      kind: 'reject',
      reason: `proposal ${incoming.proposalId} belongs to invoice ${stored.invoice.invoiceId}, not ${incoming.invoiceId}`,
    };
  }
  // Lines built for the old totals must not stay visible (or postable) under new ones: until the next Import
  // from staging builds them again (the same build, when the actuals still fit), the proposal shows none.
  const linesStillFit =
    incoming.currency === stored.invoice.currency &&
    incoming.transactionCount === stored.invoice.transactionCount &&
    sameAmount(incoming.detailAmount, stored.invoice.detailAmount);
  if (stored.status === 'LinesCreated' && !linesStillFit) {
    const reason = `version ${incoming.version} changed the invoice totals; the lines are built again by the next Import from staging`;
    return {
      kind: 'update',
      header: { ...stored, invoice: incoming, status: 'AwaitingLines', reason, activeBuild: null, lineCount: 0, lineActuals: undefined },
    };
  }
  return { kind: 'update', header: { ...stored, invoice: incoming } };
}

/**
 * The header once one of its actuals has left for another proposal (or is no
 * longer billed sales): lines it showed are taken off show at once, so they can
 * be neither read nor posted; the next Import from staging evaluates it again.
 */
/** The digest of a set of actual ids, whatever their order or repeats (see ProposalHeader.lineActuals). */
export function actualIdsDigest(actualIds: Iterable<string>): string {
  const ids = [...new Set(actualIds)].sort();
  return createHash('sha256').update(ids.join('\n')).digest('hex');
}

export function takeDownFor(header: ProposalHeader, actualId: string): ProposalHeader {
  if (header.status !== 'LinesCreated') return header;
  return {
    ...header,
    status: 'AwaitingLines',
    reason: `${departedReason([actualId])}; the next Import from staging evaluates it again`,
    activeBuild: null,
    lineCount: 0,
    lineActuals: undefined,
  };
}

/** Why a proposal no longer counts actuals that a newer version took elsewhere. */
export function departedReason(actualIds: readonly string[]): string {
  const named = actualIds.slice(0, 3).join(', ');
  const more = actualIds.length > 3 ? ` and ${actualIds.length - 3} more` : '';
  return actualIds.length === 1
    ? `actual ${named} no longer belongs to this proposal (a newer version names another proposal or is not billed sales)`
    : `actuals ${named}${more} no longer belong to this proposal (newer versions name another proposal or are not billed sales)`;
}
