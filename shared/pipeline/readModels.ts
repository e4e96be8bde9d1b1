import { isBilledSales } from '../contracts/actual';
import type { ProposalLine } from '../domain/importPlan';
import { actualView, proposalView, type ActualView, type ProposalView } from '../domain/views';
import { proposalPartition } from '../storage/keys';
import { lineRow, postedRow, type PostedLine } from '../storage/proposals';
import type { Runtime } from '../runtime';

export async function readProposal(rt: Runtime, legalEntity: string, proposalId: string): Promise<ProposalView | undefined> {
  const pk = proposalPartition(legalEntity.toLowerCase(), proposalId);
  const header = await rt.proposals.header(pk);
  if (!header) return undefined;
  const build = header.value.activeBuild;
  const lines = build ? (await rt.proposals.lines(pk, build)).map((l) => l.value) : [];
  return proposalView(header.value, lines);
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
