import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Webhook } from 'standardwebhooks';
import { recordPosting } from '../shared/pipeline/recordPosting';
import { proposalPartition } from '../shared/storage/keys';
import { cpuRatio, measured, round, row, type BenchContext } from './context';
import { postingFor, proposals, seedProcessed } from './fixtures';
import { startChild, type Child } from './processes';
import { assert, BENCH_WEBHOOK_SECRET, benchRuntime, median, silentLog } from './support';
import { target, type BenchRow } from './types';
import { headerRow } from '../shared/storage/proposalRows';

interface Load {
  requestsPerSecond: number;
  /** Azurite CPU per request, µs (null when unknown). */
  azuriteUs: number | null;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

type Item = { path: string; body: string };

function signed(webhook: Webhook, body: string, id = `msg_${randomUUID()}`): Record<string, string> {
  const at = new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': webhook.sign(id, at, body),
  };
}

/**
 * Signed posting callbacks. `distinct`: round-robin over the proposals, a fresh webhook-id and
 * signature per request, so every one is a new callback. `replayed`: one signed request per
 * proposal, sent again and again unchanged (a sender's retries), answered from the webhook-id record.
 * `fresh`: as Finance sends them, every request a new posting of a proposal not posted before, with
 * its own webhook-id and signature (each item is used once; the load sends exactly as many).
 */
function postingRequests(items: Item[], mode: 'distinct' | 'replayed' | 'fresh') {
  const webhook = new Webhook(BENCH_WEBHOOK_SECRET);
  const fixed = mode === 'replayed' ? items.map((item) => signed(webhook, item.body)) : [];
  let next = 0;
  return [
    {
      method: 'POST' as const,
      setupRequest: (req: autocannon.Request) => {
        assert(mode !== 'fresh' || next < items.length, 'measurement 6: more fresh postings asked for than seeded');
        const i = next++ % items.length;
        const item = items[i]!;
        return {
          ...req,
          method: 'POST' as const,
          path: item.path,
          body: item.body,
          headers: mode === 'replayed' ? fixed[i]! : signed(webhook, item.body),
        };
      },
    },
  ];
}

/** `seconds` of load, or exactly `amount` requests (fresh postings, each usable once). */
async function load(
  ctx: BenchContext,
  url: string,
  length: { seconds: number } | { amount: number },
  requests: ReturnType<typeof postingRequests>,
): Promise<Load> {
  const { value: result, azuriteCpu } = await measured(ctx, () =>
    autocannon({
      url,
      connections: 'amount' in length ? Math.min(ctx.scale.httpConnections, length.amount) : ctx.scale.httpConnections,
      ...('amount' in length ? { amount: length.amount } : { duration: length.seconds }),
      requests,
    }),
  );
  return {
    requestsPerSecond: result.duration > 0 ? result.requests.total / result.duration : 0,
    azuriteUs: azuriteCpu === null || !result.requests.total ? null : (azuriteCpu * 1e6) / result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

/**
 * Measurement 6: signed posting callbacks through the local host (the same
 * function definitions, over HTTP, in a process of its own), 32 connections,
 * against a bare Node HTTP server doing one Azurite table read per request.
 *
 * Row 6c sends callbacks as Finance does: each a new posting of a proposal
 * that has lines and no posting yet (seeded before the load), so each runs
 * the whole path of a first posting. Row 6 replays one signed callback per
 * already-posted proposal, as a sender's retries (answered from the webhook-id
 * record). The bare server gets the row 6 bodies, each with a fresh signature.
 */
export async function postingCallbacks(ctx: BenchContext): Promise<BenchRow[]> {
  const { scale } = ctx;
  const lines = scale.linesPerProposal;
  const b = await benchRuntime(ctx.azurite.connectionString, 'm6');
  const set = [...proposals('m6', scale.httpProposals, lines)];
  await seedProcessed(b.rt, set);
  for (const p of set) {
    const r = await recordPosting(b.rt, p.invoice.legalEntity, p.invoice.proposalId, postingFor(p), silentLog);
    assert(r.kind === 'posted', `measurement 6: the first posting of ${p.invoice.proposalId} was ${r.kind}`);
  }
  // Proposals with lines and no posting yet, one per fresh callback: the repetitions' and the warm-up's.
  const warmFresh = Math.ceil(scale.httpFreshPostings / 4);
  const unposted = [...proposals('m6f', scale.httpFreshPostings * scale.repetitions + warmFresh, lines)];
  await seedProcessed(b.rt, unposted);
  const item = (p: (typeof set)[number]) => ({
    path: `/api/invoice-proposals/${p.invoice.legalEntity}/${encodeURIComponent(p.invoice.proposalId)}/posted`,
    body: JSON.stringify(postingFor(p)),
  });
  const items = set.map(item);

  const children: Child[] = [];
  try {
    const host = startChild('host', {
      BENCH_CONNECTION: ctx.azurite.connectionString,
      BENCH_PREFIX: b.prefix,
      BENCH_SECRET: BENCH_WEBHOOK_SECRET,
    });
    children.push(host);
    const first = set[0]!;
    const bare = startChild('bare', {
      BENCH_CONNECTION: ctx.azurite.connectionString,
      BENCH_TABLE: `${b.prefix}proposals`,
      BENCH_PK: proposalPartition(first.invoice.legalEntity, first.invoice.proposalId),
      BENCH_RK: headerRow(proposalPartition(first.invoice.legalEntity, first.invoice.proposalId)),
    });
    children.push(bare);
    const [hostUp, bareUp] = await Promise.all([host.first, bare.first]);
    assert(hostUp.kind === 'listening' && bareUp.kind === 'listening', 'measurement 6: a server did not start');
    const hostUrl = `http://127.0.0.1:${hostUp.port}`;
    const bareUrl = `http://127.0.0.1:${bareUp.port}`;

    // Warm both (JIT, connections; the replayed requests get their first answer recorded), then measure,
    // alternating which server goes first.
    const replayed = postingRequests(items, 'replayed');
    const distinct = postingRequests(items, 'distinct');
    const fresh = postingRequests(unposted.map(item), 'fresh');
    const warm = { seconds: Math.min(2, scale.httpSeconds / 2) };
    await load(ctx, hostUrl, warm, replayed);
    await load(ctx, hostUrl, { amount: warmFresh }, fresh);
    await load(ctx, bareUrl, warm, distinct);
    const product: Load[] = [];
    const replays: Load[] = [];
    const baseline: Load[] = [];
    for (let rep = 0; rep < scale.repetitions; rep++) {
      // Signed anew each repetition: a signature older than 5 minutes is refused, and the fresh postings take minutes.
      const replayedNow = rep === 0 ? replayed : postingRequests(items, 'replayed');
      // Each new webhook-id applied once before the load, so no two copies of one are first at once (a 409 each).
      if (rep > 0) await load(ctx, hostUrl, { amount: items.length }, replayedNow);
      const runs: [string, Load[], ReturnType<typeof postingRequests>, Parameters<typeof load>[2]][] = [
        [bareUrl, baseline, distinct, { seconds: scale.httpSeconds }],
        [hostUrl, product, fresh, { amount: scale.httpFreshPostings }],
        [hostUrl, replays, replayedNow, { seconds: scale.httpSeconds }],
      ];
      for (const [url, into, requests, length] of rep % 2 === 0 ? runs : runs.reverse()) into.push(await load(ctx, url, length, requests));
    }
    for (const l of product) assert(l.total === scale.httpFreshPostings, `measurement 6: ${l.total} fresh postings answered`);
    for (const l of [...product, ...replays])
      assert(
        l.non2xx === 0 && l.errors === 0 && l.total > 0,
        `measurement 6: ${l.non2xx} non-2xx answers and ${l.errors} errors from the local host`,
      );
    for (const l of baseline)
      assert(
        l.non2xx === 0 && l.errors === 0 && l.total > 0,
        `measurement 6: ${l.non2xx} non-2xx answers and ${l.errors} errors from the bare server`,
      );
    ctx.log(
      `  6: host ${product.map((l) => l.requestsPerSecond.toFixed(0)).join(', ')} req/s (replayed ${replays.map((l) => l.requestsPerSecond.toFixed(0)).join(', ')}); bare ${baseline.map((l) => l.requestsPerSecond.toFixed(0)).join(', ')} req/s`,
    );

    const azurite = (ls: Load[]) => {
      const xs = ls.flatMap((l) => (l.azuriteUs === null ? [] : [l.azuriteUs]));
      return xs.length ? round(median(xs), 0) : null;
    };
    const common = {
      connections: scale.httpConnections,
      secondsPerRepetition: scale.httpSeconds,
      proposals: scale.httpProposals,
      linesPerProposal: lines,
      azuriteCpuUsPerRequest: { distinct: azurite(product), replayed: azurite(replays), baseline: azurite(baseline) },
      azuriteCpuRatio: { replayed: cpuRatio(azurite(baseline), azurite(replays)), distinct: cpuRatio(azurite(baseline), azurite(product)) },
    };
    const baselineName = `bare Node HTTP server doing one Azurite table read per request, ${scale.httpConnections} connections`;
    return [
      row({
        id: '6',
        name: `signed posting callbacks through the local host, ${lines}-line proposals, ${scale.httpConnections} connections (autocannon): the same signed bodies posted repeatedly`,
        unit: 'req/s',
        figures: replays.map((l) => l.requestsPerSecond),
        baselines: baseline.map((l) => l.requestsPerSecond),
        baselineName,
        target: target.reported('reported: a sender retrying one callback'),
        details: {
          ...common,
          requests: replays.map((l) => l.total),
          baselineRequests: baseline.map((l) => l.total),
          path: 'one signed request per proposal, sent again and again unchanged (as a sender retries): signature check, then the webhook-id claim finds the answer recorded the first time (a refused insert and one point read)',
        },
      }),
      row({
        id: '6b',
        name: 'posting callback latency through the local host, p99 (row 6)',
        unit: 'ms',
        figures: replays.map((l) => l.p99),
        baselines: baseline.map((l) => l.p99),
        baselineName: 'bare server p99',
        target: target.reported('reported'),
        ratio: false,
        details: { ...common, p50: round(median(replays.map((l) => l.p50)), 1), baselineP50: round(median(baseline.map((l) => l.p50)), 1) },
      }),
      row({
        id: '6c',
        name: `signed posting callbacks as Finance sends them: every request a new posting of another ${lines}-line proposal, fresh webhook-id and signature`,
        unit: 'req/s',
        figures: product.map((l) => l.requestsPerSecond),
        baselines: baseline.map((l) => l.requestsPerSecond),
        baselineName,
        target: target.ratioAtLeast(0.3),
        details: {
          ...common,
          postingsPerRepetition: scale.httpFreshPostings,
          p50: round(median(product.map((l) => l.p50)), 1),
          p99: round(median(product.map((l) => l.p99)), 1),
          path: `signature check, webhook-id claim (insert), header read (its digest of the lines' actual ids vouches for them), posting decision, outbox entry, state index entry, one transaction (the ${lines} accounting amounts in one page, and the header), the old state index entry removed, accounting updates sent, outbox entry removed, webhook-id answer (merge): 8 storage requests (row 7d)`,
          bound:
            'Azurite runs every request on one JavaScript thread: azuriteCpuUsPerRequest.distinct is its CPU per fresh posting, and 1 s divided by it is the most postings a second it can serve, whatever the product does',
          sender: `the local host has no Service Bus: its stand-in (table localOutbound) takes the accounting updates in one transaction, one more request per callback, as Azure's one Service Bus send`,
        },
      }),
    ];
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await b.drop();
  }
}
