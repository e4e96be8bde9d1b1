import { expect } from 'vitest';
import type { ProposalStatus } from '../../shared/contracts/answers';
import type { ProposalHeader } from '../../shared/domain/proposal';
import { proposalsInState } from '../../shared/operations/stateLists';
import { parseProposalPartition } from '../../shared/storage/keys';
import { statePartition } from '../../shared/storage/proposalStates';
import type { Runtime } from '../../shared/runtime';

/** Every proposal header of a runtime's tables (a full scan: a test's view of the truth, never the product's). */
async function headers(rt: Runtime): Promise<Map<string, ProposalHeader>> {
  const out = new Map<string, ProposalHeader>();
  const rows = rt.tables.proposals.listEntities<{ json: string }>({ queryOptions: { select: ['PartitionKey', 'RowKey', 'json'] } });
  for await (const r of rows) if (r.rowKey!.startsWith('header|')) out.set(r.partitionKey!, JSON.parse(r.json) as ProposalHeader);
  return out;
}

async function everyPage(rt: Runtime, status: ProposalStatus, day?: string) {
  const items = [];
  let token: string | undefined;
  do {
    const page = await proposalsInState(rt, status, day, 100, token);
    if (!page.ok) throw new Error(page.detail);
    items.push(...page.list.items);
    token = page.list.nextPageToken ?? undefined;
  } while (token);
  return items;
}

/**
 * The operations lists agree exactly with the proposals' own states: each
 * proposal is listed once, under its status (Posted: on the day it was
 * posted), and after one pass of the lists (which drop stale entries) the index
 * holds no entry more than the lists show.
 */
export async function expectStateListsAgree(rt: Runtime, what = 'state lists'): Promise<number> {
  const truth = await headers(rt);
  const days = new Set([...truth.values()].filter((h) => h.status === 'Posted').map((h) => h.stateSince!.slice(0, 10)));
  const lists: [ProposalStatus, string | undefined][] = [
    ['AwaitingLines', undefined],
    ['Error', undefined],
    ['LinesCreated', undefined],
    ...[...days].map((d): [ProposalStatus, string] => ['Posted', d]),
  ];
  const listed = new Map<string, string[]>();
  for (const [status, day] of lists) {
    const items = await everyPage(rt, status, day);
    for (const p of items) {
      const key = `${p.legalEntity}/${p.proposalId}`;
      listed.set(key, [...(listed.get(key) ?? []), status]);
    }
    const { entries, more } = await rt.states.entries(statePartition(status, day ?? ''), 100_000);
    expect(entries.length + more, `${what}: the ${status}${day ? ` ${day}` : ''} index holds only what its list shows, once repaired`).toBe(
      items.length,
    );
  }
  const want = new Map(
    [...truth].map(([pk, h]) => {
      const { legalEntity, proposalId } = parseProposalPartition(pk);
      return [`${legalEntity}/${proposalId}`, [h.status]];
    }),
  );
  expect(Object.fromEntries([...listed].sort()), `${what}: every proposal listed once, under its own state`).toEqual(
    Object.fromEntries([...want].sort()),
  );
  return truth.size;
}
