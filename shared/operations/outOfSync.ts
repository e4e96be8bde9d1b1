import type { OutOfSyncList } from '../contracts/operations';
import { parseProposalPartition } from '../storage/keys';
import type { Runtime } from '../runtime';

/** Actual ids shown per posting; the count says how many there are. */
const IDS_SHOWN = 50;

/**
 * Postings whose accounting updates are still not sent towards Dataverse
 * `hours` after Finance posted them: the outbox entries older than that (the
 * outbox holds only unsent postings, so this reads pending work, not history).
 * Updates Dataverse refused are quarantined and listed with the messages.
 */
export async function outOfSync(rt: Runtime, hours: number): Promise<OutOfSyncList> {
  const cutoff = new Date(rt.now().getTime() - hours * 3_600_000).toISOString();
  const entries = [];
  for await (const e of rt.outbox.olderThan(cutoff)) entries.push(e);
  const items = await Promise.all(
    entries.map(async (e) => {
      const [header, lines] = await Promise.all([
        rt.proposals.header(e.proposal),
        rt.proposals.postedLines(e.proposal, e.postingId, IDS_SHOWN),
      ]);
      const { legalEntity, proposalId } = parseProposalPartition(e.proposal);
      return {
        legalEntity,
        proposalId,
        postingId: e.postingId,
        postedAt: e.createdAt,
        voucher: header?.value.posting?.voucher ?? null,
        actualIds: lines.map((l) => l.actualId),
        actualCount: header?.value.lineCount ?? lines.length,
      };
    }),
  );
  items.sort((a, b) => a.postedAt.localeCompare(b.postedAt));
  return { olderThanHours: hours, items };
}
