import { isBilledSales } from '../contracts/actual';
import type { ProposalLine } from '../domain/importPlan';
import { actualView, proposalView, type ActualView, type ProposalView } from '../domain/views';
import { proposalPartition } from '../storage/keys';
import { lineRow, postedRow, type PostedLine } from '../storage/proposals';
import type { Runtime } from '../runtime';

export async function readProposal(rt: Runtime, legalEntity: string, proposalId: string): Promise<ProposalView | undefined> {
  const pk = proposalPartition(legalEntity.toLowerCase(), proposalId);
  // Header and lines are two reads: an import may switch to a new build and delete the old one's rows in
  // between. A build's rows are complete before the header names it, so a short count means exactly that
  // race, and reading again gives the new header with its complete lines.
  for (let attempt = 1; ; attempt++) {
    const header = await rt.proposals.header(pk);
    if (!header) return undefined;
    const build = header.value.activeBuild;
    const lines = build ? (await rt.proposals.lines(pk, build)).map((l) => l.value) : [];
    if (lines.length === (build ? header.value.lineCount : 0)) return proposalView(header.value, lines);
    if (attempt >= 5) throw new Error(`proposal ${legalEntity}/${proposalId} changed while it was read, ${attempt} times; try again`);
  }
}

export async function readActual(rt: Runtime, legalEntity: string, actualId: string): Promise<ActualView | undefined> {
  const stored = await rt.register.get(legalEntity.toLowerCase(), actualId);
  if (!stored) return undefined;
  const actual = stored.value;
  if (!isBilledSales(actual)) return actualView({ actual, header: undefined, line: undefined, posted: undefined });
  const pk = proposalPartition(actual.legalEntity, actual.proposalId);
  const header = (await rt.proposals.header(pk))?.value;
  const build = header?.activeBuild;
  const line = build ? await rt.proposals.point<ProposalLine>(pk, lineRow(build, actualId)) : undefined;
  const postingId = header?.posting?.postingId;
  const posted = postingId ? await rt.proposals.point<PostedLine>(pk, postedRow(postingId, actualId)) : undefined;
  return actualView({ actual, header, line, posted });
}
