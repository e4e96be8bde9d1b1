import { randomBytes } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { AuditEntry } from '../contracts/operations';
import { newestFirst } from './keys';

/**
 * The audit: every operator action (retry, pause, resume, run the import),
 * who did it, when, and how it ended, refused ones included. One partition,
 * newest first by row key; rows are only ever created.
 */
const PARTITION = 'audit';

type Row = AuditEntry & { partitionKey: string; rowKey: string };

export class OperatorActions {
  constructor(private readonly table: TableClient) {}

  async record(entry: AuditEntry): Promise<void> {
    // The random suffix keeps two actions of one millisecond apart.
    const rowKey = `${newestFirst(entry.at)}|${randomBytes(4).toString('hex')}`;
    await this.table.createEntity({ partitionKey: PARTITION, rowKey, ...entry, detail: entry.detail.slice(0, 4000) });
  }

  /** One page, newest first: one request. */
  async page(pageSize: number, continuationToken?: string): Promise<{ items: AuditEntry[]; next: string | undefined }> {
    const pages = this.table
      .listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION}` } })
      .byPage({ maxPageSize: pageSize, continuationToken });
    const first = await pages.next();
    if (first.done) return { items: [], next: undefined };
    const items = first.value.map(({ at, who, via, action, target, outcome, detail }) => ({
      at,
      who,
      via,
      action,
      target,
      outcome,
      detail,
    }));
    return { items, next: first.value.continuationToken };
  }
}
