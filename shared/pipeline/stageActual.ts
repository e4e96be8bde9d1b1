import { isBilledSales, type Actual } from '../contracts/actual';
import { decideRegister, needsHolder, proposalOf, type Departure, type Holder, type RegisterDecision } from '../domain/register';
import { withOptimisticRetry } from '../storage/conditions';
import { proposalPartition } from '../storage/keys';
import { heldVersion, type Holding } from '../storage/proposals';
import type { Logger, Runtime } from '../runtime';
import { quarantine, type Delivery, type Outcome } from './inbound';
import { requestImport } from './importRequest';
import { readActual } from './nativeInbound';

/** The points between the steps of a delivery. */
export type DeliveryStep = 'decided' | 'takenDown' | 'registered';

/** Called between the steps of a delivery (crash tests stop the process there). */
export type StepHook = (step: DeliveryStep) => Promise<void> | void;

/**
 * The register decides, then the proposal the actual leaves is told, then the
 * register is written, all inside one optimistic attempt: a 409/412 anywhere
 * (the register or that proposal changed meanwhile) decides again from fresh
 * reads. The first attempt assumes the actual is new (the common case) and
 * reads nothing.
 */
async function register(rt: Runtime, actual: Actual, name: string, onStep?: StepHook): Promise<RegisterDecision> {
  return withOptimisticRetry(name, async (attempt) => {
    const stored = attempt > 1 ? await rt.register.get(actual.actualId) : undefined;
    let holder: Holder | undefined;
    let holding: Holding | undefined;
    if (needsHolder(stored?.value.actual, actual)) {
      const from = proposalOf(stored!.value.actual)!;
      holding = await rt.proposals.holding(proposalPartition(from.legalEntity, from.proposalId), actual.actualId);
      holder = { status: holding.header?.value.status, holds: !!heldVersion(holding) };
    }
    const decision = decideRegister(stored?.value, actual, holder);
    await onStep?.('decided');
    switch (decision.kind) {
      case 'create':
        await rt.register.create(actual);
        break;
      case 'revise':
        await rt.register.replace(actual, stored!.etag);
        break;
      case 'move': {
        // Off the old proposal first: until the register names the new one, nothing can stage it there.
        const pk = proposalPartition(decision.from.legalEntity, decision.from.proposalId);
        await rt.proposals.takeDown(pk, actual.actualId, decision.through, holding!);
        await rt.staging.stageDeparture(decision.from.legalEntity, decision.from.proposalId, {
          actualId: actual.actualId,
          through: decision.through,
        });
        await onStep?.('takenDown');
        await rt.register.replace(actual, stored!.etag);
        break;
      }
      case 'refuse':
        if ((stored!.value.refused?.version ?? -1) < actual.version) {
          await rt.register.recordRefusal(stored!.value, { version: actual.version, reason: decision.reason }, stored!.etag);
        }
        break;
    }
    return decision;
  });
}

/** A version that is not accepted still tells the proposal it names that the actual is not its own through it. */
async function stageDeparture(rt: Runtime, departure: Departure | null, actualId: string): Promise<void> {
  if (departure)
    await rt.staging.stageDeparture(departure.proposal.legalEntity, departure.proposal.proposalId, {
      actualId,
      through: departure.through,
    });
}

/**
 * syncActuals: every actual (our contract, or Dataverse's own msdyn_actual
 * message turned into it) is registered; an accepted billed sales actual is
 * then staged for Import from staging. Register first, stage after: only a
 * version the register accepted is ever staged, so a refused version can never
 * become a line, whatever runs in between. A crash after the register write
 * leaves nothing staged; the redelivery finds the version registered
 * (a duplicate) and stages it then. See docs/storage.md, "One identity per actual".
 */
export async function stageActual(rt: Runtime, d: Delivery, log: Logger, onStep?: StepHook): Promise<Outcome> {
  const parsed = await readActual(rt, d, log);
  if (!parsed.ok) return parsed.outcome;
  const actual = parsed.value;
  const name = `actual ${actual.actualId} v${actual.version}`;

  const decision = await register(rt, actual, name, onStep);
  await onStep?.('registered');
  const accepted = decision.kind === 'create' || decision.kind === 'revise' || decision.kind === 'move' || decision.kind === 'duplicate';
  if (accepted && isBilledSales(actual)) {
    await rt.staging.stageActual(actual);
    await requestImport(rt, actual.legalEntity, actual.proposalId, log);
  }
  // The proposal it left may now be complete (it had one too many).
  if (decision.kind === 'move') await requestImport(rt, decision.from.legalEntity, decision.from.proposalId, log);

  switch (decision.kind) {
    case 'stale':
      await stageDeparture(rt, decision.departure, actual.actualId);
      log.warn(`${name} ignored: stale, ${decision.detail}`);
      return { kind: 'stale', detail: decision.detail };
    case 'conflict':
    case 'refuse':
      await stageDeparture(rt, decision.departure, actual.actualId);
      return quarantine(rt, d, decision.reason, log);
    case 'duplicate':
      return { kind: 'duplicate', detail: `${name} already registered` };
    default: {
      const where = isBilledSales(actual)
        ? `staged for proposal ${actual.legalEntity}/${actual.proposalId}`
        : `registered (${actual.transactionType}, not for a proposal line)`;
      const moved = decision.kind === 'move' ? `, moved from proposal ${decision.from.legalEntity}/${decision.from.proposalId}` : '';
      log.info(`${name} ${where}${moved}`);
      return { kind: 'applied', detail: `${name} ${decision.kind === 'create' ? 'registered' : `updated${moved}`}` };
    }
  }
}
