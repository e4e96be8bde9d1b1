import { actualSchema, isBilledSales, type Actual } from '../contracts/actual';
import { withOptimisticRetry } from '../storage/conditions';
import type { Logger, Runtime } from '../runtime';
import { parseDelivery, quarantine, type Delivery, type Outcome } from './inbound';

type RegisterDecision = {
  kind: 'create' | 'replace' | 'duplicate' | 'stale' | 'reject';
  detail: string;
  /** This delivery's staged row holds a version that must never be imported. */
  withdrawStaged?: boolean;
};

function sameActual(a: Actual, b: Actual): boolean {
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

/** What a delivered actual does to the register entry for it. Higher version wins. */
function decideRegister(stored: Actual | undefined, incoming: Actual): RegisterDecision {
  if (!stored) return { kind: 'create', detail: 'registered' };
  if (incoming.version < stored.version) return { kind: 'stale', detail: `version ${stored.version} is stored`, withdrawStaged: true };
  if (incoming.version === stored.version) {
    return sameActual(stored, incoming)
      ? { kind: 'duplicate', detail: 'already registered' }
      : { kind: 'reject', detail: `version ${incoming.version} was already received with different content` };
  }
  if (isBilledSales(stored) && (!isBilledSales(incoming) || incoming.proposalId !== stored.proposalId)) {
    const now = isBilledSales(incoming) ? `proposal ${incoming.proposalId}` : `a ${incoming.transactionType} actual`;
    return {
      kind: 'reject',
      withdrawStaged: true,
      detail: `actual ${incoming.actualId} is a billed sales actual of proposal ${stored.proposalId} and cannot become ${now}; correct it in Dataverse with a corrective invoice`,
    };
  }
  return { kind: 'replace', detail: `updated from version ${stored.version}` };
}

/**
 * syncActuals: every actual is registered; a billed sales actual is also staged
 * for Import from staging. Staging goes first, so a crash in between leaves a
 * staged row that a redelivery completes, never a registered actual with no
 * staged work behind it.
 */
export async function stageActual(rt: Runtime, d: Delivery, log: Logger): Promise<Outcome> {
  const parsed = await parseDelivery(rt, d, actualSchema, log);
  if (!parsed.ok) return parsed.outcome;
  const actual = parsed.value;
  const name = `actual ${actual.legalEntity}/${actual.actualId} v${actual.version}`;

  const staged = isBilledSales(actual) ? await rt.staging.stageActual(actual) : undefined;

  const decision = await withOptimisticRetry(name, async (attempt) => {
    const stored = attempt > 1 ? await rt.register.get(actual.legalEntity, actual.actualId) : undefined;
    const decision = decideRegister(stored?.value, actual);
    if (decision.kind === 'create') await rt.register.create(actual);
    if (decision.kind === 'replace') await rt.register.replace(actual, stored!.etag);
    return decision;
  });

  // A stale or refused version's staged row can only ever be wrong: take it back out.
  if (staged && decision.withdrawStaged) await rt.staging.remove([staged]);
  switch (decision.kind) {
    case 'stale':
      log.warn(`${name} ignored: stale, ${decision.detail}`);
      return { kind: 'stale', detail: decision.detail };
    case 'reject':
      return quarantine(rt, d, decision.detail, log);
    case 'duplicate':
      return { kind: 'duplicate', detail: `${name} ${decision.detail}` };
    default:
      log.info(`${name} ${staged ? 'staged' : `registered (${actual.transactionType}, not for a proposal line)`}`);
      return { kind: 'applied', detail: `${name} ${decision.detail}` };
  }
}
