import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Actual, BilledSalesActual } from '../../../shared/contracts/actual';
import { decideRegister, needsHolder, proposalOf, sameContent, type Holder, type RegisterEntry } from '../../../shared/domain/register';
import { actual, billed, shuffled } from '../support/domain';
import { latest, type Message } from '../support/importModel';

const onProposal = (proposalId: string, overrides: Partial<BilledSalesActual> = {}) => billed({ proposalId, ...overrides });
/** A version that is not billed sales: it names no proposal. */
function cost(overrides: Partial<Actual> = {}): Actual {
  const { invoiceId: _i, proposalId: _p, ...rest } = actual({ transactionType: 'Cost', ...overrides });
  return rest;
}
const entry = (a: Actual): RegisterEntry => ({ actual: a, refused: null });
const open: Holder = { status: 'LinesCreated', holds: true };
const P = { legalEntity: 'usmf', proposalId: 'PINV-P' };
const Q = { legalEntity: 'usmf', proposalId: 'PINV-Q' };

describe('proposalOf and sameContent', () => {
  it('a billed sales version names its proposal; any other names none', () => {
    expect(proposalOf(onProposal('PINV-P'))).toEqual(P);
    expect(proposalOf(cost())).toBeNull();
  });

  it('compares versions field by field, whatever the key order', () => {
    const a = actual();
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as Actual;
    expect(sameContent(a, reordered)).toBe(true);
    expect(sameContent(a, { ...a, amount: '100.01' })).toBe(false);
    expect(sameContent(a, { ...a, description: 'x' } as Actual)).toBe(false);
  });
});

describe('decideRegister: named cases', () => {
  it('registers the first version it sees', () => {
    expect(decideRegister(undefined, actual())).toEqual({ kind: 'create' });
  });

  it('ignores a stale version, leaving a departure only where it names another proposal', () => {
    const stored = entry(onProposal('PINV-P', { version: 5 }));
    expect(decideRegister(stored, onProposal('PINV-P', { version: 4 }))).toMatchObject({ kind: 'stale', departure: null });
    expect(decideRegister(stored, onProposal('PINV-Q', { version: 4 }))).toMatchObject({
      kind: 'stale',
      departure: { proposal: Q, through: 4 },
    });
    expect(decideRegister(stored, cost({ version: 4 }))).toMatchObject({ kind: 'stale', departure: null });
  });

  it('sees the same version with the same content as a duplicate', () => {
    const a = onProposal('PINV-P', { version: 2 });
    expect(decideRegister(entry(a), { ...a })).toEqual({ kind: 'duplicate' });
  });

  it('keeps the first content of a version and quarantines another, with a departure where it names another proposal', () => {
    const stored = entry(onProposal('PINV-P', { version: 2 }));
    expect(decideRegister(stored, onProposal('PINV-P', { version: 2, amount: '1.00' }))).toMatchObject({
      kind: 'conflict',
      departure: null,
    });
    expect(decideRegister(stored, onProposal('PINV-Q', { version: 2 }))).toMatchObject({
      kind: 'conflict',
      departure: { proposal: Q, through: 2 },
    });
  });

  it('revises an actual that named no proposal, without asking any proposal', () => {
    const stored = cost({ version: 1 });
    expect(needsHolder(stored, onProposal('PINV-P', { version: 2 }))).toBe(false);
    expect(decideRegister(entry(stored), onProposal('PINV-P', { version: 2 }))).toEqual({ kind: 'revise' });
  });

  it('needs the holding proposal to decide a newer version of a billed sales actual', () => {
    const stored = onProposal('PINV-P', { version: 1 });
    const incoming = onProposal('PINV-P', { version: 2 });
    expect(needsHolder(stored, incoming)).toBe(true);
    expect(needsHolder(stored, stored)).toBe(false);
    expect(() => decideRegister(entry(stored), incoming)).toThrow(/needs the state of proposal usmf\/PINV-P/);
  });

  it('revises in place on the same proposal, and moves off the old one through the stored version', () => {
    const stored = entry(onProposal('PINV-P', { version: 1 }));
    expect(decideRegister(stored, onProposal('PINV-P', { version: 2 }), open)).toEqual({ kind: 'revise' });
    expect(decideRegister(stored, onProposal('PINV-Q', { version: 2 }), open)).toEqual({ kind: 'move', from: P, through: 1 });
    expect(decideRegister(stored, cost({ version: 2 }), open)).toEqual({ kind: 'move', from: P, through: 1 });
  });

  it('allows a move while the old proposal is posted without holding the actual', () => {
    const stored = entry(onProposal('PINV-P', { version: 1 }));
    expect(decideRegister(stored, onProposal('PINV-Q', { version: 2 }), { status: 'Posted', holds: false })).toEqual({
      kind: 'move',
      from: P,
      through: 1,
    });
  });

  it('refuses a newer version once the actual is on a posted invoice, keeping the posted version', () => {
    const stored = entry(onProposal('PINV-P', { version: 1 }));
    const posted: Holder = { status: 'Posted', holds: true };
    const same = decideRegister(stored, onProposal('PINV-P', { version: 2 }), posted);
    expect(same).toEqual({ kind: 'refuse', reason: expect.stringContaining('keeps version 1'), departure: null });
    const elsewhere = decideRegister(stored, onProposal('PINV-Q', { version: 2 }), posted);
    expect(elsewhere).toMatchObject({ kind: 'refuse', departure: { proposal: Q, through: 2 } });
  });
});

/** One version of the actual: its number, and the proposal it names (or none, when not billed sales). */
type Sent = { version: number; proposalId: string | null };
const versionOf = ({ version, proposalId }: Sent): Actual => (proposalId ? onProposal(proposalId, { version }) : cost({ version }));

/**
 * Delivers versions through the register, doing what each decision says, and
 * keeps what each proposal was told (versions staged to it, departures). The
 * proposal holding the actual is posted after `postAfter` deliveries, if any.
 */
function deliver(order: readonly Sent[], postAfter = Infinity) {
  let stored: RegisterEntry | undefined;
  let posted: string | null = null;
  let postedVersion: number | null = null;
  const told = new Map<string, Message[]>();
  const tell = (proposalId: string, m: Message) => told.set(proposalId, [...(told.get(proposalId) ?? []), m]);
  const holds = (proposalId: string) => latest(told.get(proposalId) ?? []).get(stored!.actual.actualId)?.kind === 'version';
  const stage = (a: Actual) => {
    if (a.transactionType === 'BilledSales') tell(a.proposalId!, { kind: 'version', actual: a as BilledSalesActual });
  };
  order.forEach((sent, i) => {
    const incoming = versionOf(sent);
    const from = stored && proposalOf(stored.actual)?.proposalId;
    const holder = from ? { status: from === posted ? ('Posted' as const) : ('LinesCreated' as const), holds: holds(from) } : undefined;
    const decision = decideRegister(stored, incoming, holder);
    if (decision.kind === 'move')
      tell(decision.from.proposalId, { kind: 'departure', departed: { actualId: incoming.actualId, through: decision.through } });
    if (decision.kind === 'create' || decision.kind === 'revise' || decision.kind === 'move') stored = entry(incoming);
    if (decision.kind !== 'stale' && decision.kind !== 'conflict' && decision.kind !== 'refuse') stage(incoming);
    else if (decision.departure)
      tell(decision.departure.proposal.proposalId, {
        kind: 'departure',
        departed: { actualId: incoming.actualId, through: decision.departure.through },
      });
    const nowOn = stored && proposalOf(stored.actual)?.proposalId;
    if (i + 1 === postAfter && nowOn && holds(nowOn)) {
      posted = nowOn;
      postedVersion = stored!.actual.version;
    }
  });
  const holding = [...told.keys()]
    .filter(holds)
    .map((p) => ({ proposalId: p, version: (latest(told.get(p)!).get(stored!.actual.actualId) as { actual: Actual }).actual.version }));
  return { stored: stored!.actual, holding, posted, postedVersion };
}

const sentVersions = fc.uniqueArray(fc.record({ version: fc.nat(20), proposalId: fc.constantFrom('PINV-P', 'PINV-Q', 'PINV-R', null) }), {
  minLength: 1,
  maxLength: 6,
  selector: (s) => s.version,
});
/** Every version delivered at least once, some twice, in any order. */
const deliveries = sentVersions.chain((sent) =>
  fc.tuple(fc.constant(sent), fc.subarray(sent)).chain(([all, again]) => fc.tuple(fc.constant(all), shuffled([...all, ...again]))),
);

describe('decideRegister: properties', () => {
  it('a higher version wins whatever the order, moves included', () => {
    fc.assert(
      fc.property(deliveries, ([sent, order]) => {
        const top = sent.reduce((a, b) => (b.version > a.version ? b : a));
        expect(deliver(order).stored).toEqual(versionOf(top));
      }),
    );
  });

  it('billed at most once: only the proposal the highest version names holds the actual, whatever the order', () => {
    fc.assert(
      fc.property(deliveries, ([sent, order]) => {
        const top = sent.reduce((a, b) => (b.version > a.version ? b : a));
        const expected = top.proposalId ? [{ proposalId: top.proposalId, version: top.version }] : [];
        expect(deliver(order).holding).toEqual(expected);
      }),
    );
  });

  it('once the holding proposal is posted, no later version replaces the posted one, nor lands elsewhere', () => {
    fc.assert(
      fc.property(deliveries, fc.nat(12), ([, order], postAfter) => {
        const { stored, holding, posted, postedVersion } = deliver(order, postAfter);
        if (posted === null) return;
        expect(stored.version).toBe(postedVersion);
        expect(holding).toEqual([{ proposalId: posted, version: postedVersion }]);
      }),
    );
  });
});
