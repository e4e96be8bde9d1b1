import { createHash } from 'node:crypto';
import type { BilledSalesActual } from '../contracts/actual';
import { formatMoney, parseMoney, sumMoney } from '../contracts/money';
import { actualIdsDigest, awaitingReason, departedReason, type ProposalHeader, type ProposalStatus } from './proposal';

/** A proposal line: one billed sales actual, numbered in a stable order. */
export interface ProposalLine {
  lineNumber: number;
  actual: BilledSalesActual;
}

/**
 * An actual that is not this proposal's through a version: a newer version
 * took it elsewhere (or made it something other than billed sales), or a
 * version naming this proposal was never accepted. It outranks every version
 * up to `through`, and is outranked by any later one naming the proposal.
 */
export interface Departed {
  actualId: string;
  through: number;
}

export interface ImportInput {
  header: ProposalHeader | undefined;
  /** Actuals the proposal already holds (parked or on lines), latest version each. */
  known: readonly BilledSalesActual[];
  /** Actuals the proposal already knows have left it. */
  departed?: readonly Departed[];
  /** Actuals read from staging in this run, any versions, duplicates included. */
  staged: readonly BilledSalesActual[];
  /** Departures read from staging in this run. */
  leaving?: readonly Departed[];
}

export interface HeaderChange {
  status: ProposalStatus;
  reason: string | null;
  activeBuild: string | null;
  lineCount: number;
  lineActuals?: { build: string; digest: string };
}

export interface ImportPlan {
  /** Actuals whose latest version the proposal does not hold yet: write them. */
  toPark: BilledSalesActual[];
  /** Departures the proposal does not record yet: write them (they replace what it held of the actual). */
  toDepart: Departed[];
  /** Staged actuals refused by a business rule, to quarantine with the reason. */
  refused: { actual: BilledSalesActual; reason: string }[];
  /** New header state, or null when it stays as it is. */
  header: HeaderChange | null;
  /** Lines to write under `header.activeBuild`, when a new build is due. */
  lines: ProposalLine[];
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

/** What a proposal knows of one actual: a version it holds, or its departure through a version. */
type Entry = { kind: 'parked'; actual: BilledSalesActual } | { kind: 'departed'; departed: Departed };

/** Later versions rank higher; at one version, a departure outranks the version it blocks. */
const rank = (e: Entry) => (e.kind === 'parked' ? 2 * e.actual.version : 2 * e.departed.through + 1);

function latestEntries(entries: Iterable<Entry>): Map<string, Entry> {
  const latest = new Map<string, Entry>();
  for (const e of entries) {
    const id = e.kind === 'parked' ? e.actual.actualId : e.departed.actualId;
    const held = latest.get(id);
    if (!held || rank(e) > rank(held)) latest.set(id, e);
  }
  return latest;
}

const parked = (actual: BilledSalesActual): Entry => ({ kind: 'parked', actual });
const departedEntry = (departed: Departed): Entry => ({ kind: 'departed', departed });
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Import from staging for one proposal: all of its lines in one step, or none
 * with a visible reason. The result is a function of the header and the set of
 * actuals and departures, never of the order they arrived in.
 */
export function planImport({ header, known, departed = [], staged, leaving = [] }: ImportInput): ImportPlan {
  const held = latestEntries([...known.map(parked), ...departed.map(departedEntry)]);
  const arriving = latestEntries([...staged.map(parked), ...leaving.map(departedEntry)]);
  const newer = [...arriving].filter(([id, e]) => rank(e) > (held.has(id) ? rank(held.get(id)!) : -1)).map(([, e]) => e);
  const heldActual = (id: string) => {
    const e = held.get(id);
    return e?.kind === 'parked' ? e.actual : undefined;
  };

  if (header?.status === 'Posted') {
    // A posted proposal keeps what it posted: newer versions are refused, departures of actuals it posted ignored.
    const refused = newer.flatMap((e) => {
      if (e.kind !== 'parked') return [];
      const { actual } = e;
      const kept = heldActual(actual.actualId);
      const reason = kept
        ? `actual ${actual.actualId} changed after proposal ${header.invoice.proposalId} was posted; the posted invoice keeps version ${kept.version}`
        : `proposal ${header.invoice.proposalId} is already posted; actual ${actual.actualId} arrived too late to be on it`;
      return [{ actual, reason }];
    });
    const toDepart = newer.flatMap((e) => (e.kind === 'departed' && !heldActual(e.departed.actualId) ? [e.departed] : []));
    return { toPark: [], toDepart, refused, header: null, lines: [] };
  }

  const toPark = newer.flatMap((e) => (e.kind === 'parked' ? [e.actual] : []));
  const toDepart = newer.flatMap((e) => (e.kind === 'departed' ? [e.departed] : []));
  if (!header) return { toPark, toDepart, refused: [], header: null, lines: [] };

  const all = latestEntries([...held.values(), ...newer]);
  // In actual id order, so the first problem named does not depend on which actuals an earlier run had parked.
  const actuals = [...all.values()].flatMap((e) => (e.kind === 'parked' ? [e.actual] : [])).sort((a, b) => byId(a.actualId, b.actualId));
  const gone = [...all.values()].flatMap((e) => (e.kind === 'departed' ? [e.departed.actualId] : [])).sort(byId);
  const problem = blockingProblem(header, actuals);
  if (problem) {
    const reason = problem.status === 'AwaitingLines' && gone.length ? `${problem.reason}; ${departedReason(gone)}` : problem.reason;
    return {
      toPark,
      toDepart,
      refused: [],
      // No build on show, so no digest of one either: the header is the same whichever builds came before.
      header: changed(header, { status: problem.status, reason, activeBuild: null, lineCount: 0, lineActuals: undefined }),
      lines: [],
    };
  }
  const build = buildId(actuals);
  const lineActuals = { build, digest: actualIdsDigest(actuals.map((a) => a.actualId)) };
  const next = changed(header, { status: 'LinesCreated', reason: null, activeBuild: build, lineCount: actuals.length, lineActuals });
  return { toPark, toDepart, refused: [], header: next, lines: next ? numberLines(actuals) : [] };
}
