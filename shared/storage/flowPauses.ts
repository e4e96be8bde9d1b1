import { odata, type TableClient } from '@azure/data-tables';
import { isConflict, isNotFound, isPreconditionFailed } from './conditions';

/** One flow's pause as recorded: who paused it and since when, and which functions the pause switched off. */
export interface FlowPause {
  flow: string;
  paused: boolean;
  since: string | null;
  by: string | null;
  /** The functions this pause switched off (those already off stay off on resume). */
  switchedOff: string[];
  etag: string;
}

type PauseRow = { paused: boolean; since?: string; by?: string; switchedOff?: string; etag?: string };

const PARTITION = 'flow';

/**
 * The record of paused flows, one row per flow. Every change is conditional:
 * the first pause creates the row (a second creator gets 409), later ones
 * replace it with the ETag they read (412 if someone changed it meanwhile), so
 * two operators pausing at once cannot both succeed.
 */
export class FlowPauseStore {
  constructor(private readonly table: TableClient) {}

  async read(flow: string): Promise<FlowPause | undefined> {
    try {
      return toPause(flow, await this.table.getEntity<PauseRow>(PARTITION, flow));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Every flow with a row (a handful: one partition, one request). */
  async all(): Promise<FlowPause[]> {
    const out: FlowPause[] = [];
    for await (const e of this.table.listEntities<PauseRow & { rowKey: string }>({
      queryOptions: { filter: odata`PartitionKey eq ${PARTITION}` },
    }))
      out.push(toPause(e.rowKey, e));
    return out;
  }

  /**
   * Writes the flow's state if nobody changed it since `previous` was read
   * (`undefined`: the row did not exist). Returns the new row, or 'changed'
   * when another writer came first.
   */
  async write(
    flow: string,
    previous: FlowPause | undefined,
    next: { paused: boolean; since: string | null; by: string | null; switchedOff: string[] },
  ): Promise<FlowPause | 'changed'> {
    const entity = {
      partitionKey: PARTITION,
      rowKey: flow,
      paused: next.paused,
      since: next.since ?? '',
      by: next.by ?? '',
      switchedOff: JSON.stringify(next.switchedOff),
    };
    try {
      const r = previous
        ? await this.table.updateEntity(entity, 'Replace', { etag: previous.etag })
        : await this.table.createEntity(entity);
      return { flow, ...next, etag: r.etag! };
    } catch (e) {
      if (isConflict(e) || isPreconditionFailed(e)) return 'changed';
      throw e;
    }
  }
}

function toPause(flow: string, row: PauseRow): FlowPause {
  return {
    flow,
    paused: row.paused === true,
    since: row.since || null,
    by: row.by || null,
    switchedOff: row.switchedOff ? (JSON.parse(row.switchedOff) as string[]) : [],
    etag: row.etag!,
  };
}
