import { odata, type TableClient } from '@azure/data-tables';

const PARTITION = 'switch';

/**
 * The local stand-in for the AzureWebJobs.<function>.Disabled app settings: one
 * row per function that was switched, which the local host reads about once a
 * second. Like an app setting, a switch is a value set whole (last writer wins);
 * the flow pauses (FlowPauseStore) are what is written conditionally.
 */
export class TriggerSwitchRows {
  constructor(private readonly table: TableClient) {}

  /** Every function switched so far: true = off. One partition of a few rows. */
  async read(): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    for await (const e of this.table.listEntities<{ rowKey: string; disabled: boolean }>({
      queryOptions: { filter: odata`PartitionKey eq ${PARTITION}` },
    }))
      out.set(e.rowKey, e.disabled === true);
    return out;
  }

  async write(disabled: Readonly<Record<string, boolean>>, at: Date): Promise<void> {
    await Promise.all(
      Object.entries(disabled).map(([fn, off]) =>
        this.table.upsertEntity({ partitionKey: PARTITION, rowKey: fn, disabled: off, changedAt: at.toISOString() }, 'Replace'),
      ),
    );
  }
}
