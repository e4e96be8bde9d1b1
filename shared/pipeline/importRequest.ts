import type { BilledSalesActual } from '../contracts/actual';
import { importRequestSchema } from '../contracts/importRequest';
import { planImport, type Departed } from '../domain/importPlan';
import type { ProposalHeader } from '../domain/proposal';
import { importRequestMessage } from '../messaging/importRequests';
import { knownActuals } from '../storage/proposals';
import { isHeaderFlag, stagedActualsOf, type StagedGroup } from '../storage/staging';
import type { Logger, Runtime } from '../runtime';
import { importStagedProposal, type ImportOptions } from './importFromStaging';
import { parseDelivery, type Delivery, type Outcome } from './inbound';

/**
 * The import fast path (docs/design.md#import-fast-path). A delivery that staged something for a proposal
 * asks for that proposal's import; the request arrives a moment later and imports it at once if its
 * actuals are all there, through the same per-proposal import as the periodic run.
 *
 * Asking costs no storage operation (one Service Bus send, deduplicated per proposal and second), and a
 * failed send only delays the lines to the next scheduled run, so it is logged rather than thrown.
 */
export async function requestImport(rt: Runtime, legalEntity: string, proposalId: string, log: Logger): Promise<void> {
  if (!rt.importRequests) return;
  try {
    await rt.importRequests.send(importRequestMessage({ legalEntity, proposalId }, rt.now()));
  } catch (e) {
    log.warn(
      `import request for proposal ${legalEntity}/${proposalId} not sent (${(e as Error).message}); the scheduled import will take it`,
    );
  }
}

/** The status the import would give the proposal with these actuals: the import plan decides, as in every import. */
function statusAfter(header: ProposalHeader, group: StagedGroup, known: BilledSalesActual[], departed: Departed[]) {
  const staged = group.rows.flatMap(stagedActualsOf);
  const leaving = group.rows.flatMap((r) => (r.departure ? [r.departure] : []));
  const plan = planImport({ header, known, departed, staged, leaving });
  return plan.header?.status ?? header.status;
}

/**
 * Whether importing now would do more than count what has arrived: the proposal would get its lines, or
 * an error, or it is posted (late arrivals are refused now). Costs nothing more when the header came with
 * the staged rows and nothing is parked yet (the common case); one point read each otherwise, and the
 * partition read only when an earlier scheduled run parked actuals.
 */
async function due(rt: Runtime, group: StagedGroup): Promise<boolean> {
  const flagged = group.rows.filter((r) => isHeaderFlag(r) && r.header).at(-1)?.header;
  const header = flagged?.value ?? (await rt.proposals.header(group.proposal))?.value;
  if (!header) return false; // its header's delivery asks again
  if (statusAfter(header, group, [], []) !== 'AwaitingLines') return true;
  if (!(await rt.proposals.holdsActuals(group.proposal))) return false;
  const part = await rt.proposals.read(group.proposal);
  const known = knownActuals(part);
  const departed = [...part.departed.values()].map((s) => s.value);
  return statusAfter(part.header?.value ?? header, group, known, departed) !== 'AwaitingLines';
}

/**
 * importProposal: one import request. A proposal still waiting for actuals is left exactly as it was, a
 * request for one already imported finds nothing staged: both complete at the cost of one query.
 */
export async function importRequested(rt: Runtime, d: Delivery, log: Logger, options: ImportOptions = {}): Promise<Outcome> {
  const parsed = await parseDelivery(rt, d, importRequestSchema, log);
  if (!parsed.ok) return parsed.outcome;
  const { legalEntity, proposalId } = parsed.value;
  const name = `proposal ${legalEntity}/${proposalId}`;
  const outcome = await importStagedProposal(rt, legalEntity, proposalId, log, { ...options, due: (group) => due(rt, group) });
  if (outcome === 'NothingStaged') return { kind: 'duplicate', detail: `${name}: nothing staged, already imported` };
  if (outcome === 'NotDue') return { kind: 'ignored', detail: `${name}: still waiting for actuals or its header; nothing changed` };
  return { kind: 'applied', detail: `${name}: ${outcome}` };
}
