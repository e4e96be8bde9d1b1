/**
 * A reference model of what a proposal knows of its actuals, written from the
 * rules in shared/domain/importPlan.ts's doc comments (not from its code): a later
 * version outranks an earlier one, a departure outranks every version up to its
 * `through`, and is outranked by any later version naming the proposal.
 */
import fc from 'fast-check';
import type { BilledSalesActual } from '../../../shared/contracts/actual';
import type { Departed } from '../../../shared/domain/importPlan';
import { billed, decimal, GUID } from './domain';

export type Message = { kind: 'version'; actual: BilledSalesActual } | { kind: 'departure'; departed: Departed };

const idOf = (m: Message) => (m.kind === 'version' ? m.actual.actualId : m.departed.actualId);
const outranks = (a: Message, b: Message) => {
  const va = a.kind === 'version' ? a.actual.version : a.departed.through;
  const vb = b.kind === 'version' ? b.actual.version : b.departed.through;
  // At one version the departure wins: it says that very version is not this proposal's.
  return va !== vb ? va > vb : a.kind === 'departure' && b.kind === 'version';
};

/** What wins for each actual, given every message the proposal ever saw. */
export function latest(messages: readonly Message[]): Map<string, Message> {
  const won = new Map<string, Message>();
  for (const m of messages) {
    const held = won.get(idOf(m));
    if (!held || outranks(m, held)) won.set(idOf(m), m);
  }
  return won;
}

/** The versions a proposal should count as its own after seeing these messages. */
export const ownActuals = (messages: readonly Message[]) =>
  [...latest(messages).values()].flatMap((m) => (m.kind === 'version' ? [m.actual] : []));

/** Splits messages into planImport's four inputs; `held` marks those the proposal already recorded. */
export function inputsOf(messages: readonly Message[], held: readonly boolean[]) {
  const onHand = latest(messages.filter((_, i) => held[i]));
  const arriving = messages.filter((_, i) => !held[i]);
  return {
    known: [...onHand.values()].flatMap((m) => (m.kind === 'version' ? [m.actual] : [])),
    departed: [...onHand.values()].flatMap((m) => (m.kind === 'departure' ? [m.departed] : [])),
    staged: arriving.flatMap((m) => (m.kind === 'version' ? [m.actual] : [])),
    leaving: arriving.flatMap((m) => (m.kind === 'departure' ? [m.departed] : [])),
  };
}

const ACTUAL_IDS = [1, 2, 3, 4].map((n) => GUID(n, 'act'));
const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];

/** Versions of a few actuals (one content per id and version, as the register guarantees), some foreign. */
const version = fc
  .record({
    actualId: fc.constantFrom(...ACTUAL_IDS),
    version: fc.nat(4),
    amount: decimal(999_999n),
    documentDate: fc.constantFrom(...DATES),
    // Rarely foreign, so most runs can reach the interesting outcome: all lines created.
    foreign: fc.oneof(
      { arbitrary: fc.constant('no' as const), weight: 14 },
      { arbitrary: fc.constantFrom('invoice' as const, 'currency' as const), weight: 1 },
    ),
  })
  .map(({ actualId, version, amount, documentDate, foreign }) =>
    billed({
      actualId,
      version,
      amount: amount.text,
      documentDate,
      ...(foreign === 'invoice' ? { invoiceId: GUID(99, 'inv') } : foreign === 'currency' ? { currency: 'EUR' } : {}),
    }),
  );

const departure = fc.record({ actualId: fc.constantFrom(...ACTUAL_IDS), through: fc.nat(4) });

export const messages = fc
  .tuple(
    fc.uniqueArray(version, { maxLength: 10, selector: (a) => `${a.actualId}@${a.version}` }),
    fc.uniqueArray(departure, { maxLength: 3, selector: (d) => `${d.actualId}@${d.through}` }),
  )
  .map(([versions, departures]): Message[] => [
    ...versions.map((actual) => ({ kind: 'version' as const, actual })),
    ...departures.map((departed) => ({ kind: 'departure' as const, departed })),
  ]);
