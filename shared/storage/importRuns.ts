import type { TableClient } from '@azure/data-tables';
import type { ImportRun } from '../contracts/operations';
import { isNotFound } from './conditions';

/**
 * The last run of Import from staging (and the last successful one), for the
 * operations summary: one row each, overwritten by every scheduled or
 * operator-started run.
 */
const PARTITION = 'import';
type Which = 'last' | 'lastSucceeded';

export class ImportRuns {
  constructor(private readonly table: TableClient) {}

  async record(run: ImportRun): Promise<void> {
    const rows: Which[] = run.outcome === 'succeeded' ? ['last', 'lastSucceeded'] : ['last'];
    // Last writer wins on purpose: a record of the latest run, not state any decision depends on.
    await Promise.all(rows.map((rowKey) => this.table.upsertEntity({ partitionKey: PARTITION, rowKey, ...run }, 'Replace')));
  }

  async read(which: Which = 'last'): Promise<ImportRun | undefined> {
    try {
      const { trigger, startedAt, finishedAt, durationMs, outcome, detail } = await this.table.getEntity<ImportRun>(PARTITION, which);
      return { trigger, startedAt, finishedAt, durationMs, outcome, detail };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
