/**
 * The console's quarantine count and list read an index of open messages, newest first, not the quarantine
 * table (docs/operations.md, "Quarantine"). What an operator relies on: the count and the list show exactly
 * the messages still to deal with, the newest first, at a cost that does not grow with the history, and
 * a crash anywhere on the way in or out neither hides a message nor lists one twice.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RequestCounter } from '../bench/support';
import type { Runtime } from '../shared/runtime';
import { QuarantineStore } from '../shared/storage/quarantine';
import { dropTables, isolatedRuntime } from './support/reliability';

describe('the open quarantine index (Azurite)', () => {
  const counter = new RequestCounter();
  let rt: Runtime & { env: Record<string, string> };
  let at = Date.parse('2026-11-01T00:00:00Z');
  const nextTime = () => new Date((at += 60_000));

  beforeAll(async () => {
    rt = await isolatedRuntime({ storage: { additionalPolicies: [{ policy: counter.policy(), position: 'perCall' }] } });
  });
  afterAll(async () => {
    if (rt) await dropTables(rt);
  });
  beforeEach(async () => {
    for (const table of [rt.tables.quarantine, rt.tables.quarantineOpen])
      for await (const e of table.listEntities()) await table.deleteEntity(e.partitionKey!, e.rowKey!);
  });

  /** A store as a process that has just started sees it. */
  const freshStore = () => new QuarantineStore(rt.tables.quarantine, rt.tables.quarantineOpen);
  const keep = (store: QuarantineStore, n: number, source = 'project-actuals') =>
    store.keep({ source, reason: `bad ${n}`, raw: `{"n":${n}}`, now: nextTime() });
  const openIds = async (store: QuarantineStore, pageSize = 100) => {
    const ids: string[] = [];
    let continuation: string | undefined;
    do {
      const page = await store.page({ pageSize, continuation });
      ids.push(...page.items.map((i) => i.id));
      continuation = page.continuation;
    } while (continuation);
    return ids;
  };

  it('counts the open messages from the index alone: 3 open among 60 replayed cost one query of the index that returns 3 entries', async () => {
    const store = freshStore();
    const all: string[] = [];
    for (let n = 0; n < 63; n++) all.push(await keep(store, n));
    for (const id of all.slice(0, 60)) {
      const row = (await store.get('project-actuals', id))!;
      await store.markReplayed(row, row.etag, nextTime(), 'ops');
    }
    expect(await store.countOpen()).toBe(3);
    counter.reset();
    expect(await store.countOpen()).toBe(3);
    // One query of the open entries: not of the quarantine table, which Azure would read whole to filter on a property.
    expect(counter.snapshot(rt.env.TABLE_PREFIX)).toEqual({ 'query quarantineOpen': 1 });
    expect(counter.entityOperations).toBe(3);
  });

  it('lists open messages newest first, page by page; a replayed one leaves the list at once, and a failed resubmission puts it back', async () => {
    const store = freshStore();
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await keep(store, n, n % 2 ? 'project-actuals' : 'project-invoice-proposals'));
    expect(await openIds(store, 2)).toEqual([...ids].reverse());

    const third = (await store.get('project-actuals', ids[3]!))!;
    const etag = await store.markReplayed(third, third.etag, nextTime(), 'ops');
    expect(await openIds(store)).toEqual([ids[4], ids[2], ids[1], ids[0]]);
    expect(await store.countOpen()).toBe(4);

    await store.clearReplayed(third, etag);
    expect(await openIds(store)).toEqual([...ids].reverse());
    expect(await store.countOpen()).toBe(5);
  });

  it('a message refused again after its replay is open again, once, under the time it came back', async () => {
    const store = freshStore();
    const first = await keep(store, 1);
    const other = await keep(store, 2);
    const row = (await store.get('project-actuals', first))!;
    await store.markReplayed(row, row.etag, nextTime(), 'ops');
    expect(await keep(store, 1)).toBe(first); // the same content, refused again
    expect(await openIds(store)).toEqual([first, other]);
    expect(await store.countOpen()).toBe(2);
  });

  it('a delivery that crashed between the row and its entry is listed again once the message is redelivered', async () => {
    const store = freshStore();
    const id = await keep(store, 7);
    expect(await store.countOpen()).toBe(1); // the index is built (once per deployment): what follows is the steady state
    const row = (await store.get('project-actuals', id))!;
    const entries = [];
    for await (const e of rt.tables.quarantineOpen.listEntities({ queryOptions: { filter: "PartitionKey eq 'open'" } })) entries.push(e);
    expect(entries).toHaveLength(1);
    await rt.tables.quarantineOpen.deleteEntity('open', entries[0]!.rowKey!); // as if the process died before writing it
    expect(await store.countOpen()).toBe(0);

    expect(await store.keep({ source: 'project-actuals', reason: 'bad 7', raw: '{"n":7}', now: nextTime() })).toBe(id);
    expect(await openIds(store)).toEqual([id]);
    expect((await store.page({ pageSize: 10 })).items[0]!.receivedAt).toBe(row.receivedAt);
  });

  it('an entry left by a crash after the replay mark is not listed, and the page that finds it drops it', async () => {
    const store = freshStore();
    const kept = await keep(store, 8);
    const replayed = await keep(store, 9);
    // Marked replayed, but the process died before it removed the entry.
    await rt.tables.quarantine.updateEntity(
      { partitionKey: 'project-actuals', rowKey: replayed, replayedAt: nextTime().toISOString() },
      'Merge',
    );
    expect(await store.countOpen()).toBe(2);
    expect(await openIds(store)).toEqual([kept]);
    expect(await store.countOpen()).toBe(1);
  });

  it('messages quarantined before the index existed are indexed once: the first count reads the table, later processes only the index', async () => {
    const before = freshStore();
    const ids: string[] = [];
    for (let n = 0; n < 4; n++) ids.push(await keep(before, n));
    const row = (await before.get('project-actuals', ids[0]!))!;
    await before.markReplayed(row, row.etag, nextTime());
    // The deployment as it was before the index: its rows, no entries, no marker.
    for await (const e of rt.tables.quarantineOpen.listEntities()) await rt.tables.quarantineOpen.deleteEntity(e.partitionKey!, e.rowKey!);

    const upgraded = freshStore();
    expect(await upgraded.countOpen()).toBe(3);
    expect(await openIds(upgraded)).toEqual([ids[3], ids[2], ids[1]]);

    counter.reset();
    expect(await freshStore().countOpen()).toBe(3);
    // The marker (one point read, once per process), then the index: nothing of the quarantine table.
    expect(counter.snapshot(rt.env.TABLE_PREFIX)).toEqual({ 'point-read quarantineOpen': 1, 'query quarantineOpen': 1 });
  });
});
