import { isBilledSales, type Actual } from '../contracts/actual';
import type { RefusedVersion } from '../contracts/answers';
import type { ProposalStatus } from './proposal';

/**
 * The actual register's rules (docs/storage.md, "One identity per actual"). An
 * actual is its Dataverse id, whatever legal entity or proposal a version
 * names. The register holds the one version the system accepted; only that
 * version is ever staged, so only an accepted version can become a line.
 */

/** A later version that was refused because the actual is on a posted invoice; its shape is a schema in contracts/answers.ts. */
export type { RefusedVersion };

export interface RegisterEntry {
  actual: Actual;
  refused: RefusedVersion | null;
}

/** The proposal a version of a billed sales actual names (legal entity lower case, as stored). */
export interface ProposalRef {
  legalEntity: string;
  proposalId: string;
}

export function proposalOf(a: Actual): ProposalRef | null {
  return isBilledSales(a) ? { legalEntity: a.legalEntity, proposalId: a.proposalId } : null;
}

export function sameProposal(a: ProposalRef | null, b: ProposalRef | null): boolean {
  return !!a && !!b && a.legalEntity === b.legalEntity && a.proposalId === b.proposalId;
}

const describe = (p: ProposalRef | null) => (p ? `proposal ${p.legalEntity}/${p.proposalId}` : 'no proposal');

/**
 * Where the stored version stands on the proposal it names: read only when a
 * newer version of a billed sales actual arrives (the rare path), because only
 * then can it matter whether that proposal has posted it.
 */
export interface Holder {
  /** The proposal's status, or undefined while its header has not arrived. */
  status: ProposalStatus | undefined;
  /** Whether the proposal holds the actual (parked or on its lines) rather than nothing or a departure. */
  holds: boolean;
}

/**
 * A version that is not accepted but names a proposal where the actual does not
 * belong: that proposal is told the actual is not its own through that version.
 * Whatever the order, every proposal a version ever named ends up knowing the
 * same thing, so the final state depends only on the set of messages.
 */
export interface Departure {
  proposal: ProposalRef;
  through: number;
}

export type RegisterDecision =
  /** First version seen: register it, stage it if billed sales. */
  | { kind: 'create' }
  /** Same version, same content: nothing changes; staging again is harmless and finishes a delivery that crashed. */
  | { kind: 'duplicate' }
  /** A newer version that stays where it was (same proposal, or not on a proposal before). */
  | { kind: 'revise' }
  /** A newer version that leaves `from`: take it off there first, then register and stage it. */
  | { kind: 'move'; from: ProposalRef; through: number }
  | { kind: 'stale'; detail: string; departure: Departure | null }
  /** Same version, different content: the first accepted stays, this one is quarantined. */
  | { kind: 'conflict'; reason: string; departure: Departure | null }
  /** A newer version of an actual that is on a posted invoice: recorded and quarantined, the posted version stays. */
  | { kind: 'refuse'; reason: string; departure: Departure | null };

/** Content equality of two versions, field by field, whatever the key order. */
export function sameContent(a: Actual, b: Actual): boolean {
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

/** Whether deciding needs the state of the proposal the stored version names (see Holder). */
export function needsHolder(stored: Actual | undefined, incoming: Actual): stored is Actual {
  return !!stored && isBilledSales(stored) && incoming.version > stored.version;
}

/** A version that is not accepted leaves a departure where it names a proposal the actual does not belong to. */
function departureFor(incoming: Actual, current: Actual): Departure | null {
  const named = proposalOf(incoming);
  return named && !sameProposal(named, proposalOf(current)) ? { proposal: named, through: incoming.version } : null;
}

/**
 * What a delivered version does to the register. Higher version wins, moves
 * included, until the actual is on a posted invoice; `holder` is required when
 * needsHolder says so.
 */
export function decideRegister(stored: RegisterEntry | undefined, incoming: Actual, holder?: Holder): RegisterDecision {
  if (!stored) return { kind: 'create' };
  const current = stored.actual;
  const name = `actual ${incoming.actualId}`;
  if (incoming.version < current.version) {
    return { kind: 'stale', detail: `version ${current.version} is stored`, departure: departureFor(incoming, current) };
  }
  if (incoming.version === current.version) {
    return sameContent(current, incoming)
      ? { kind: 'duplicate' }
      : {
          kind: 'conflict',
          reason: `${name}: version ${incoming.version} was already received with different content; the first one received stays, send a newer version from Dataverse to change it`,
          departure: departureFor(incoming, current),
        };
  }
  const from = proposalOf(current);
  if (!from) return { kind: 'revise' };
  if (!holder) throw new Error(`${name}: deciding version ${incoming.version} needs the state of ${describe(from)}`);
  const to = proposalOf(incoming);
  if (holder.status === 'Posted' && holder.holds) {
    const change = sameProposal(from, to) ? 'changed' : `now names ${describe(to)}`;
    return {
      kind: 'refuse',
      reason: `${name}: version ${incoming.version} ${change}, but version ${current.version} is on ${describe(from)}, which is posted; the posted invoice keeps version ${current.version} (correct it in Dataverse with a corrective invoice)`,
      departure: departureFor(incoming, current),
    };
  }
  return sameProposal(from, to) ? { kind: 'revise' } : { kind: 'move', from, through: current.version };
}
