import { InvocationContext } from '@azure/functions';
import type { ServiceBusFunction } from '../shared/hosting/definition';
import syncActuals from '../functions/syncActuals';
import syncInvoiceProposal from '../functions/syncInvoiceProposal';
import type { Actual } from '../shared/contracts/actual';
import type { ConfirmedInvoice } from '../shared/contracts/invoiceProposal';
import { useRuntime } from '../shared/runtime';
import { decideHeader, type ProposalHeader } from '../shared/domain/proposal';
import { registerEntity } from '../shared/storage/actualRegister';
import { proposalPartition } from '../shared/storage/keys';
import { headerEntity } from '../shared/storage/proposalRows';
import { statePartition, stateRow } from '../shared/storage/proposalStates';
import { headerFlagEntity, stagedActualEntity } from '../shared/storage/staging';
import { cpuRatio, interleaved, measured, rawTable, round, row, type BenchContext } from './context';
import { proposals } from './fixtures';
import { assert, benchRuntime, median, pool } from './support';
import { target, type BenchRow } from './types';

/** A Service Bus trigger's context, as the Functions host builds it (logs discarded). */
export function deliveryContext(messageId: string, deliveryCount = 1): InvocationContext {
  return new InvocationContext({
    functionName: 'bench',
    triggerMetadata: { messageId, deliveryCount, enqueuedTimeUtc: new Date().toISOString() },
    logHandler: () => {},
  });
}

/** Delivers one message body to a Service Bus function the way the host does: the text of the message. */
export async function deliver(fn: ServiceBusFunction, body: unknown, messageId: string): Promise<void> {
  if (fn.cardinality === 'many') await deliverTogether(fn, [body], [messageId]);
  else await fn.handler(JSON.stringify(body), deliveryContext(messageId));
}

/** Delivers several messages in one invocation, as the host hands a function with cardinality 'many' what it received at once. */
export async function deliverTogether(fn: ServiceBusFunction, bodies: readonly unknown[], messageIds: readonly string[]): Promise<void> {
  const context = new InvocationContext({
    functionName: 'bench',
    triggerMetadata: {
      messageIdArray: [...messageIds],
      deliveryCountArray: messageIds.map(() => 1),
      enqueuedTimeUtcArray: messageIds.map(() => new Date().toISOString()),
    },
    logHandler: () => {},
  });
  await fn.handler(
    bodies.map((b) => JSON.stringify(b)),
    context,
  );
}

/**
 * Measurements 3 and 4: the two Service Bus functions, 16 deliveries at once,
 * each through its function handler (JSON text in, zod, storage), against raw
 * single-entity upserts of line-sized rows at the same concurrency.
 */
export async function syncThroughput(ctx: BenchContext): Promise<BenchRow[]> {
  const { scale } = ctx;
  const n = scale.syncDeliveries;
  const c = scale.syncConcurrency;
  const results = {
    baseline: [] as number[],
    actuals: [] as number[],
    headers: [] as number[],
    actualsRaw: [] as number[],
    headersRaw: [] as number[],
  };
  const azuriteUs = {
    baseline: [] as number[],
    actuals: [] as number[],
    headers: [] as number[],
    actualsRaw: [] as number[],
    headersRaw: [] as number[],
  };
  const requests = { actuals: [] as number[], headers: [] as number[] };
  let rep = 0;

  const baseline = async () => {
    const table = await rawTable(ctx, 'm34base');
    const rows = [...proposals(`m34b${rep}`, Math.ceil(n / 10), 10)]
      .flatMap((p) => p.actuals)
      .slice(0, n)
      .map(stagedActualEntity);
    const m = await measured(ctx, () => pool(rows, c, (e) => table.upsertEntity(e, 'Replace')));
    results.baseline.push(n / m.seconds);
    if (m.azuriteCpu !== null) azuriteUs.baseline.push((m.azuriteCpu * 1e6) / n);
    await table.drop();
  };
  const actuals = async () => {
    const b = await benchRuntime(ctx.azurite.connectionString, 'm3');
    useRuntime(b.rt);
    const messages: Actual[] = [...proposals(`m3p${rep}`, Math.ceil(n / 10), 10)].flatMap((p) => p.actuals).slice(0, n);
    const m = await measured(ctx, () => pool(messages, c, (a) => deliver(syncActuals, a, `m3-${a.actualId}`)));
    results.actuals.push(n / m.seconds);
    requests.actuals.push(b.counter.total / n);
    if (m.azuriteCpu !== null) azuriteUs.actuals.push((m.azuriteCpu * 1e6) / n);
    assert(b.counter.total >= n, 'measurement 3: the deliveries made no storage requests');
    useRuntime(undefined);
    await b.drop();
  };
  const headers = async () => {
    const b = await benchRuntime(ctx.azurite.connectionString, 'm4');
    useRuntime(b.rt);
    const messages: ConfirmedInvoice[] = [...proposals(`m4p${rep}`, n, 10)].map((p) => p.invoice);
    const m = await measured(ctx, () => pool(messages, c, (h) => deliver(syncInvoiceProposal, h, `m4-${h.proposalId}`)));
    results.headers.push(n / m.seconds);
    requests.headers.push(b.counter.total / n);
    if (m.azuriteCpu !== null) azuriteUs.headers.push((m.azuriteCpu * 1e6) / n);
    useRuntime(undefined);
    await b.drop();
  };
  // The least Azurite can be asked for: the same rows per delivery, written with raw SDK calls, no product code.
  const raw = async (kind: 'actualsRaw' | 'headersRaw') => {
    const b = await benchRuntime(ctx.azurite.connectionString, kind);
    const set = [...proposals(`${kind === 'actualsRaw' ? 'm3r' : 'm4r'}${rep}`, kind === 'actualsRaw' ? Math.ceil(n / 10) : n, 10)];
    const work =
      kind === 'actualsRaw'
        ? set
            .flatMap((p) => p.actuals)
            .slice(0, n)
            .map((a) => async () => {
              await b.rt.tables.staging.createEntity(stagedActualEntity(a));
              await b.rt.tables.actuals.createEntity(registerEntity(a));
            })
        : set.map((p) => async () => {
            const header = decideHeader(undefined, p.invoice) as { header: ProposalHeader };
            const pk = proposalPartition(p.invoice.legalEntity, p.invoice.proposalId);
            // The same three rows the product writes: the state index's AwaitingLines entry first, then header and flag.
            const since = new Date().toISOString();
            await b.rt.tables.proposalStates.upsertEntity(
              { partitionKey: statePartition('AwaitingLines', since), rowKey: stateRow(pk, since) },
              'Replace',
            );
            const { etag } = await b.rt.tables.proposals.createEntity(headerEntity(pk, { ...header.header, stateSince: since }));
            await b.rt.tables.staging.createEntity(
              headerFlagEntity(p.invoice.legalEntity, p.invoice.proposalId, p.invoice.version, {
                value: { ...header.header, stateSince: since },
                etag: etag!,
              }),
            );
          });
    const m = await measured(ctx, () => pool(work, c, (w) => w()));
    results[kind].push(n / m.seconds);
    if (m.azuriteCpu !== null) azuriteUs[kind].push((m.azuriteCpu * 1e6) / n);
    await b.drop();
  };
  await interleaved(scale.syncRepetitions, [
    baseline,
    actuals,
    () => raw('actualsRaw'),
    headers,
    async () => {
      await raw('headersRaw');
      rep++;
    },
  ]);
  ctx.log(
    `  3/4: raw upserts ${results.baseline.map((x) => x.toFixed(0)).join(', ')}/s; syncActuals ${results.actuals.map((x) => x.toFixed(0)).join(', ')}/s ` +
      `(raw rows ${results.actualsRaw.map((x) => x.toFixed(0)).join(', ')}); syncInvoiceProposal ${results.headers.map((x) => x.toFixed(0)).join(', ')}/s (raw rows ${results.headersRaw.map((x) => x.toFixed(0)).join(', ')})`,
  );

  const med = (xs: number[]) => (xs.length ? round(median(xs), 0) : null);
  const baselineName = `raw single-entity upserts of line-sized rows, ${c} at once`;
  return [
    row({
      id: '3',
      name: `syncActuals throughput, ${c} concurrent deliveries (billed sales actuals, first delivery)`,
      unit: 'deliveries/s',
      figures: results.actuals,
      baselines: results.actualsRaw,
      baselineName: 'the same two rows per delivery written with raw SDK calls in the same run (row 3f)',
      target: target.ratioAtLeast(0.9),
      details: {
        deliveries: n,
        storageRequestsPerDelivery: round(median(requests.actuals), 2),
        azuriteCpuUsPerDelivery: med(azuriteUs.actuals),
        azuriteCpuRatio: cpuRatio(med(azuriteUs.baseline), med(azuriteUs.actuals)),
        azuriteCpuUsPerBaselineUpsert: med(azuriteUs.baseline),
      },
    }),
    row({
      id: '3m',
      name: 'syncActuals throughput (row 3) against the minimal baseline: one raw upsert per delivery',
      unit: 'deliveries/s',
      figures: results.actuals,
      baselines: results.baseline,
      baselineName,
      target: target.reported('reported: a delivery must write two rows, the baseline one'),
    }),
    row({
      id: '3f',
      name: 'the same two rows per delivery (staged row, register row) written with raw SDK calls, no product code',
      unit: 'deliveries/s',
      figures: results.actualsRaw,
      baselines: results.baseline,
      baselineName,
      target: target.reported('reported: row 3 cannot beat it on this emulator'),
      details: {
        azuriteCpuUsPerDelivery: med(azuriteUs.actualsRaw),
        azuriteCpuRatio: cpuRatio(med(azuriteUs.baseline), med(azuriteUs.actualsRaw)),
      },
    }),
    row({
      id: '4',
      name: `syncInvoiceProposal throughput, ${c} concurrent deliveries (first delivery)`,
      unit: 'deliveries/s',
      figures: results.headers,
      baselines: results.headersRaw,
      baselineName: 'the same three rows per delivery written with raw SDK calls in the same run (row 4f)',
      target: target.ratioAtLeast(0.9),
      details: {
        deliveries: n,
        storageRequestsPerDelivery: round(median(requests.headers), 2),
        azuriteCpuUsPerDelivery: med(azuriteUs.headers),
        azuriteCpuRatio: cpuRatio(med(azuriteUs.baseline), med(azuriteUs.headers)),
        azuriteCpuUsPerBaselineUpsert: med(azuriteUs.baseline),
      },
    }),
    row({
      id: '4m',
      name: 'syncInvoiceProposal throughput (row 4) against the minimal baseline: one raw upsert per delivery',
      unit: 'deliveries/s',
      figures: results.headers,
      baselines: results.baseline,
      baselineName,
      target: target.reported('reported: a delivery must write three rows, the baseline one'),
    }),
    row({
      id: '4f',
      name: 'the same three rows per delivery (state index entry, header, staging flag with the header) written with raw SDK calls, no product code',
      unit: 'deliveries/s',
      figures: results.headersRaw,
      baselines: results.baseline,
      baselineName,
      target: target.reported('reported: row 4 cannot beat it on this emulator'),
      details: {
        azuriteCpuUsPerDelivery: med(azuriteUs.headersRaw),
        azuriteCpuRatio: cpuRatio(med(azuriteUs.baseline), med(azuriteUs.headersRaw)),
      },
    }),
  ];
}
