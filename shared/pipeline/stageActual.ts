import { isBilledSales, type Actual } from '../contracts/actual';
import { decideRegister, needsHolder, proposalOf, type Holder, type RegisterDecision } from '../domain/register';
import { withOptimisticRetry } from '../storage/conditions';
import { proposalPartition } from '../storage/keys';
import { heldVersion, type Holding } from '../storage/proposals';
import type { DepartureToStage } from '../storage/staging';
import type { Logger, Runtime } from '../runtime';
import { quarantine, type Delivery, type Outcome } from './inbound';
import { requestImport } from './importRequest';
import { inParallel } from './inParallel';
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

/** Deliveries of one batch registered at once (the trigger's maxConcurrentCalls, for a batch of one each). */
const DELIVERIES_AT_ONCE = 16;

/** One delivery the register has decided on. */
interface Registered {
  index: number;
  delivery: Delivery;
  name: string;
  actual: Actual;
  decision: RegisterDecision;
}

const isAccepted = (d: RegisterDecision) => d.kind === 'create' || d.kind === 'revise' || d.kind === 'move' || d.kind === 'duplicate';

/** A version that is not accepted still tells the proposal it names that the actual is not its own through it. */
function departureOf({ actual, decision }: Registered): DepartureToStage[] {
  const departure = decision.kind === 'stale' || decision.kind === 'conflict' || decision.kind === 'refuse' ? decision.departure : null;
  return departure
    ? [
        {
          legalEntity: departure.proposal.legalEntity,
          proposalId: departure.proposal.proposalId,
          departure: { actualId: actual.actualId, through: departure.through },
        },
      ]
    : [];
}

/** The proposals whose import the batch asks for: where it staged an actual, and where a moved actual left. */
function proposalsToImport(registered: readonly Registered[]): { legalEntity: string; proposalId: string }[] {
  const asked = new Map<string, { legalEntity: string; proposalId: string }>();
  const ask = (legalEntity: string, proposalId: string) =>
    asked.set(proposalPartition(legalEntity, proposalId), { legalEntity, proposalId });
  for (const { actual, decision } of registered) {
    if (isAccepted(decision) && isBilledSales(actual)) ask(actual.legalEntity, actual.proposalId);
    // The proposal it left may now be complete (it had one too many).
    if (decision.kind === 'move') ask(decision.from.legalEntity, decision.from.proposalId);
  }
  return [...asked.values()];
}

async function outcomeOf(rt: Runtime, { delivery, name, actual, decision }: Registered, log: Logger): Promise<Outcome> {
  switch (decision.kind) {
    case 'stale':
      log.warn(`${name} ignored: stale, ${decision.detail}`);
      return { kind: 'stale', detail: decision.detail };
    case 'conflict':
    case 'refuse':
      return quarantine(rt, delivery, decision.reason, log);
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

/**
 * syncActuals: every actual (our contract, or Dataverse's own msdyn_actual
 * message turned into it) is registered; an accepted billed sales actual is
 * then staged for Import from staging. Register first, stage after: only a
 * version the register accepted is ever staged, so a refused version can never
 * become a line, whatever runs in between. A crash after the register write
 * leaves nothing staged; the redelivery finds the version registered
 * (a duplicate) and stages it then. See docs/storage.md, "One identity per actual".
 *
 * The trigger hands over a batch: each delivery is registered on its own (16 at
 * once), then everything the batch accepted is staged together, one
 * transaction per staging shard, with the actuals of one proposal in shared
 * bundle rows. A delivery that fails transiently still lets the others stage
 * and settle their outcome, then the batch throws and Service Bus redelivers it
 * whole: what was done is found done.
 */
export async function stageActuals(rt: Runtime, deliveries: readonly Delivery[], log: Logger, onStep?: StepHook): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const registered: Registered[] = [];
  let failure: unknown;
  await inParallel(
    deliveries,
    DELIVERIES_AT_ONCE,
    async (delivery, index) => {
      const parsed = await readActual(rt, delivery, log);
      if (!parsed.ok) {
        outcomes[index] = parsed.outcome;
        return;
      }
      const actual = parsed.value;
      const name = `actual ${actual.actualId} v${actual.version}`;
      const decision = await register(rt, actual, name, onStep);
      await onStep?.('registered');
      registered.push({ index, delivery, name, actual, decision });
    },
    { keepGoing: true },
  ).catch((e: unknown) => (failure = e instanceof AggregateError && e.errors.length === 1 ? e.errors[0] : e));

  const accepted = registered.flatMap((r) => (isAccepted(r.decision) && isBilledSales(r.actual) ? [r.actual] : []));
  const departures = registered.flatMap(departureOf);
  if (accepted.length || departures.length) await rt.staging.stageTogether(accepted, departures);
  await Promise.all(proposalsToImport(registered).map((p) => requestImport(rt, p.legalEntity, p.proposalId, log)));
  for (const r of registered) outcomes[r.index] = await outcomeOf(rt, r, log);
  if (failure !== undefined) throw failure;
  return outcomes;
}

/** One delivery alone (a batch of one): what the crash tests and single-message callers use. */
export async function stageActual(rt: Runtime, d: Delivery, log: Logger, onStep?: StepHook): Promise<Outcome> {
  const [outcome] = await stageActuals(rt, [d], log, onStep);
  return outcome!;
}
