import { createHash } from 'node:crypto';
import type { BilledSalesActual } from '../contracts/actual';
import { formatMoney, parseMoney, sumMoney } from './money';
import { awaitingReason, type ProposalHeader, type ProposalStatus } from './proposal';

/** A proposal line: one billed sales actual, numbered in a stable order. */
export interface ProposalLine {
  lineNumber: number;
  actual: BilledSalesActual;
}

export interface ImportInput {
  header: ProposalHeader | undefined;
  /** Actuals the proposal already holds (parked or on lines), latest version each. */
  known: readonly BilledSalesActual[];
  /** Actuals read from staging in this run, any versions, duplicates included. */
  staged: readonly BilledSalesActual[];
}

export interface HeaderChange {
  status: ProposalStatus;
  reason: string | null;
  activeBuild: string | null;
  lineCount: number;
}

export interface ImportPlan {
  /** Actuals whose latest version the proposal does not hold yet: write them. */
  toPark: BilledSalesActual[];
  /** Staged actuals refused by a business rule, to quarantine with the reason. */
  refused: { actual: BilledSalesActual; reason: string }[];
  /** New header state, or null when it stays as it is. */
  header: HeaderChange | null;
  /** Lines to write under `header.activeBuild`, when a new build is due. */
  lines: ProposalLine[];
}

function latestByActual(actuals: Iterable<BilledSalesActual>): Map<string, BilledSalesActual> {
  const latest = new Map<string, BilledSalesActual>();
  for (const a of actuals) {
    const held = latest.get(a.actualId);
    if (!held || a.version > held.version) latest.set(a.actualId, a);
  }
  return latest;
}

/** Same actuals at the same versions give the same build id, whoever computes it and when. */
export function buildId(actuals: Iterable<BilledSalesActual>): string {
  const parts = [...actuals].map((a) => `${a.actualId}@${a.version}`).sort();
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
}

/** Stable line order: by document date, then actual id, so numbering never depends on arrival order. */
export function numberLines(actuals: Iterable<BilledSalesActual>): ProposalLine[] {
  return [...actuals]
    .sort((a, b) => a.documentDate.localeCompare(b.documentDate) || (a.actualId < b.actualId ? -1 : a.actualId > b.actualId ? 1 : 0))
    .map((actual, i) => ({ lineNumber: i + 1, actual }));
}

/** Why these actuals cannot become this proposal's lines, or null when they can. */
function blockingProblem(header: ProposalHeader, actuals: BilledSalesActual[]): { status: ProposalStatus; reason: string } | null {
  const inv = header.invoice;
  for (const a of actuals) {
    if (a.invoiceId !== inv.invoiceId) {
      return { status: 'Error', reason: `actual ${a.actualId} belongs to invoice ${a.invoiceId}, not ${inv.invoiceId}` };
    }
    if (a.currency !== inv.currency) {
      return { status: 'Error', reason: `actual ${a.actualId} is in ${a.currency} but the invoice is in ${inv.currency}` };
    }
  }
  if (actuals.length < inv.transactionCount) {
    return { status: 'AwaitingLines', reason: awaitingReason(actuals.length, inv.transactionCount) };
  }
  if (actuals.length > inv.transactionCount) {
    return {
      status: 'Error',
      reason: `too many billed sales actuals: ${actuals.length} staged, transactionCount is ${inv.transactionCount}`,
    };
  }
  const sum = sumMoney(actuals.map((a) => a.amount));
  if (sum !== parseMoney(inv.detailAmount)) {
    return {
      status: 'Error',
      reason: `amount mismatch: the ${actuals.length} billed sales actuals sum to ${formatMoney(sum)} but detailAmount is ${inv.detailAmount}`,
    };
  }
  return null;
}

function changed(header: ProposalHeader, next: HeaderChange): HeaderChange | null {
  const same =
    header.status === next.status &&
    header.reason === next.reason &&
    header.activeBuild === next.activeBuild &&
    header.lineCount === next.lineCount;
  return same ? null : next;
}

/**
 * Import from staging for one proposal: all of its lines in one step, or none
 * with a visible reason. The result is a function of the header and the set of
 * actuals, never of the order they arrived in.
 */
export function planImport({ header, known, staged }: ImportInput): ImportPlan {
  const held = latestByActual(known);
  const newer = [...latestByActual(staged).values()].filter((a) => a.version > (held.get(a.actualId)?.version ?? -1));

  if (header?.status === 'Posted') {
    const refused = newer.map((actual) => ({
      actual,
      reason: held.has(actual.actualId)
        ? `actual ${actual.actualId} changed after proposal ${header.invoice.proposalId} was posted; the posted invoice keeps version ${held.get(actual.actualId)!.version}`
        : `proposal ${header.invoice.proposalId} is already posted; actual ${actual.actualId} arrived too late to be on it`,
    }));
    return { toPark: [], refused, header: null, lines: [] };
  }

  const all = latestByActual([...held.values(), ...newer]);
  if (!header) return { toPark: newer, refused: [], header: null, lines: [] };

  // In actual id order, so the first problem named does not depend on which actuals an earlier run had parked.
  const actuals = [...all.values()].sort((a, b) => (a.actualId < b.actualId ? -1 : a.actualId > b.actualId ? 1 : 0));
  const problem = blockingProblem(header, actuals);
  if (problem) {
    return {
      toPark: newer,
      refused: [],
      header: changed(header, { ...problem, activeBuild: null, lineCount: 0 }),
      lines: [],
    };
  }
  const build = buildId(actuals);
  const next = changed(header, { status: 'LinesCreated', reason: null, activeBuild: build, lineCount: actuals.length });
  return { toPark: newer, refused: [], header: next, lines: next ? numberLines(actuals) : [] };
}
