import { accountingUpdateSchema, type AccountingUpdateMessage } from '../contracts/accountingUpdate';
import { accountingColumns } from '../dataverse/accountingColumns';
import { dataverseActuals } from '../dataverse/connection';
import type { ActualChange, ActualUpdates } from '../dataverse/actualUpdates';
import { parseDelivery, quarantine, type Delivery, type Outcome } from './inbound';
import type { Logger, Runtime } from '../runtime';

/** What the write-back needs from Dataverse (ActualUpdates, or a stand-in in tests). */
export type DataverseActuals = Pick<ActualUpdates, 'apply'>;

/**
 * Writes the accounting details of posted actuals onto their msdyn_actual rows
 * in Dataverse: the deliveries' updates go out together, many per $batch.
 * A message that breaks its contract, or whose actual Dataverse no longer has
 * (404) or refuses, is quarantined with the reason and completed; the others
 * are written all the same. Anything transient (429 beyond the wait budget,
 * 5xx, timeouts) throws, so Service Bus redelivers: writing the same values
 * again changes nothing, and If-Match: * means it can never create a record.
 */
export async function writeBackAccounting(
  rt: Runtime,
  actuals: DataverseActuals,
  deliveries: readonly Delivery[],
  log: Logger,
): Promise<Outcome[]> {
  const outcomes: (Outcome | undefined)[] = [];
  const accepted: { index: number; delivery: Delivery; update: AccountingUpdateMessage }[] = [];
  for (const [index, delivery] of deliveries.entries()) {
    const parsed = await parseDelivery(rt, delivery, accountingUpdateSchema, log);
    if (parsed.ok) accepted.push({ index, delivery, update: parsed.value });
    else outcomes[index] = parsed.outcome;
  }

  // A resend of the same update in one call is written once.
  const changes = new Map<string, ActualChange>();
  for (const { update } of accepted) changes.set(update.actualId, { actualId: update.actualId, columns: accountingColumns(update) });
  const results = changes.size ? await actuals.apply([...changes.values()]) : new Map();

  for (const { index, delivery, update } of accepted) {
    const result = results.get(update.actualId) ?? { kind: 'refused', detail: 'Dataverse gave no answer for it' };
    const what = `msdyn_actual ${update.actualId} (proposal ${update.proposalId}, voucher ${update.voucher})`;
    if (result.kind === 'updated') {
      outcomes[index] = { kind: 'applied', detail: `${what}: accounting date ${update.accountingDate} written` };
    } else if (result.kind === 'notFound') {
      outcomes[index] = await quarantine(
        rt,
        delivery,
        `${what} is not in Dataverse (deleted there?); nothing was written or created: ${result.detail}`,
        log,
      );
    } else {
      outcomes[index] = await quarantine(rt, delivery, `Dataverse refused the accounting update of ${what}: ${result.detail}`, log);
    }
  }
  return outcomes.map((o) => o!);
}

/** The deliveries of one invocation, written through the process's Dataverse connection (DATAVERSE_URL). */
export function writeBackDeliveries(rt: Runtime, deliveries: readonly Delivery[], log: Logger): Promise<Outcome[]> {
  return writeBackAccounting(rt, dataverseActuals(), deliveries, log);
}
