import { odata, type TableClient } from '@azure/data-tables';
import type { ProposalStatus } from '../contracts/answers';
import { deleteIfPresent } from './conditions';
import { newestFirst, timeOfNewestFirst } from './keys';

/**
 * The proposal state index: which proposals are in which state, newest first,
 * so an operator can list those waiting for lines or in error without reading
 * history (docs/storage.md, "State index").
 *
 *   PartitionKey  the state: AwaitingLines, Error, LinesCreated, or Posted|YYYY-MM-DD (the day it was posted)
 *   RowKey        {9999999999999 - ms since}|{proposal partition}: newest first, unique per stay in a state
 *
 * ProposalStore writes the entry of a proposal's new state *before* the header
 * commit that moves it there and deletes the entry of the state it left after,
 * so a committed state always has its entry. An entry left behind by a crash or
 * a lost race names a state the header no longer has; readers check every entry
 * against the header (ListedState) and delete such entries as they meet them.
 */
export interface StateEntry {
  /** The proposal's partition in the proposals table. */
  proposal: string;
  /** When the proposal entered the state (the header's stateSince). */
  since: string;
}

export function statePartition(status: ProposalStatus, since: string): string {
  return status === 'Posted' ? `Posted|${since.slice(0, 10)}` : status;
}

export function stateRow(proposal: string, since: string): string {
  return `${newestFirst(since)}|${proposal}`;
}

function entryOf(rowKey: string): StateEntry {
  const bar = rowKey.indexOf('|');
  return { proposal: rowKey.slice(bar + 1), since: timeOfNewestFirst(rowKey.slice(0, bar)) };
}

export interface StatePage {
  entries: (StateEntry & { rowKey: string })[];
  /** The table's continuation token for the next page, if there is one. */
  next: string | undefined;
}

export class ProposalStateIndex {
  constructor(private readonly table: TableClient) {}

  /** The proposal is (about to be) in `status` since `since`. Written before the header commit. */
  async enter(proposal: string, status: ProposalStatus, since: string): Promise<void> {
    // Upsert: an entry is derived data, and a retried commit writes the same key again.
    await this.table.upsertEntity({ partitionKey: statePartition(status, since), rowKey: stateRow(proposal, since) }, 'Replace');
  }

  /**
   * The proposal left `status` (entered at `since`). Entries are never updated,
   * only created and deleted, and their key names one stay in one state: no
   * other writer can have changed this row, so it goes without an ETag.
   */
  async leave(proposal: string, status: ProposalStatus, since: string): Promise<void> {
    await deleteIfPresent(() => this.table.deleteEntity(statePartition(status, since), stateRow(proposal, since)));
  }

  /** One page of a state's entries, newest first: one request, whatever the history. */
  async page(partition: string, pageSize: number, continuationToken?: string): Promise<StatePage> {
    const pages = this.table
      .listEntities({ queryOptions: { filter: odata`PartitionKey eq ${partition}`, select: ['RowKey'] } })
      .byPage({ maxPageSize: pageSize, continuationToken });
    const first = await pages.next();
    if (first.done) return { entries: [], next: undefined };
    const entries = first.value.map((e) => ({ ...entryOf(e.rowKey!), rowKey: e.rowKey! }));
    return { entries, next: first.value.continuationToken };
  }

  /** A state's entries, newest first, up to `cap` (keys only: the live states are small; Posted holds one day). */
  async entries(partition: string, cap: number): Promise<{ entries: (StateEntry & { rowKey: string })[]; more: number }> {
    const entries: (StateEntry & { rowKey: string })[] = [];
    let more = 0;
    const rows = this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${partition}`, select: ['RowKey'] } });
    for await (const row of rows) {
      if (entries.length < cap) entries.push({ ...entryOf(row.rowKey!), rowKey: row.rowKey! });
      else if (++more >= 10 * cap) break;
    }
    return { entries, more };
  }

  /** Deletes an entry a reader found stale (its proposal is no longer in that state since then). */
  async drop(partition: string, rowKey: string): Promise<void> {
    await deleteIfPresent(() => this.table.deleteEntity(partition, rowKey));
  }
}
