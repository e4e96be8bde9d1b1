import { isBilledSales } from '../contracts/actual';
import { normaliseRowId } from '../contracts/common';
import type { ProposalHeader } from '../domain/proposal';
import { actualView, correctionWarnings, proposalView, type ActualView, type ProposalView } from '../domain/views';
import { proposalPartition } from '../storage/keys';
import type { Runtime } from '../runtime';

/** Flags of a corrective invoice, from its original's header as it is now (one point read, correctives only). */
async function correction(rt: Runtime, h: ProposalHeader): Promise<string[]> {
  const originalId = h.invoice.correctsProposalId;
  if (!originalId) return [];
  const original = await rt.proposals.header(proposalPartition(h.invoice.legalEntity, originalId));
  return correctionWarnings(h, original?.value);
}

export async function readProposal(rt: Runtime, legalEntity: string, proposalId: string): Promise<ProposalView | undefined> {
  const pk = proposalPartition(legalEntity.toLowerCase(), proposalId);
  // Header and lines are two reads: an import may switch to a new build and delete the old one's rows in
  // between. A build's rows are complete before the header names it, so a short count means exactly that
  // race, and reading again gives the new header with its complete lines.
  for (let attempt = 1; ; attempt++) {
    const header = await rt.proposals.header(pk);
    if (!header) return undefined;
    const build = header.value.activeBuild;
    const lines = build ? await rt.proposals.lines(pk, build) : [];
    if (lines.length === (build ? header.value.lineCount : 0)) return proposalView(header.value, lines, await correction(rt, header.value));
    if (attempt >= 5) throw new Error(`proposal ${legalEntity}/${proposalId} changed while it was read, ${attempt} times; try again`);
  }
}

/**
 * An actual by its id (normalised as the contracts do). The legal entity in the
 * route must be the one its accepted version names: an actual is found by id,
 * but shown only where it is.
 */
export async function readActual(rt: Runtime, legalEntity: string, actualId: string): Promise<ActualView | undefined> {
  const stored = await rt.register.get(normaliseRowId(actualId));
  if (!stored || stored.value.actual.legalEntity !== legalEntity.toLowerCase()) return undefined;
  const { actual, refused } = stored.value;
  if (!isBilledSales(actual)) return actualView({ actual, refused, header: undefined, line: undefined, posted: undefined });
  const pk = proposalPartition(actual.legalEntity, actual.proposalId);
  const header = (await rt.proposals.header(pk))?.value;
  const build = header?.activeBuild;
  const line = build ? await rt.proposals.lineOf(pk, build, actual.actualId) : undefined;
  const postingId = header?.posting?.postingId;
  const posted = postingId ? await rt.proposals.postedOf(pk, postingId, actual.actualId) : undefined;
  return actualView({ actual, refused, header, line, posted });
}
