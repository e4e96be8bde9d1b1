import { randomBytes } from 'node:crypto';
import { inParallel } from '../shared/pipeline/inParallel';
import { TableServiceClient, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { readSettings } from '../shared/config';
import { createRuntime, type Runtime } from '../shared/runtime';
import { TABLE_NAMES } from '../shared/storage/tables';

/** Secret the bench signs posting callbacks with (a test value, not a credential). */
export const BENCH_WEBHOOK_SECRET = `whsec_${Buffer.from('bench-signing-secret-of-32-bytes').toString('base64')}`;

export const silentLog = { info: () => {}, warn: () => {}, error: () => {} };

// ---------------------------------------------------------------- request counting

/** What one storage request was, from its method and URL (Table service REST API). */
export function classify(req: { method: string; url: string }): string {
  const path = decodeURIComponent(new URL(req.url).pathname).replace(/^\/devstoreaccount1/, '');
  if (/^\/Tables(\(|$|\/)/.test(path)) return 'table-admin';
  if (path.endsWith('/$batch')) return 'batch';
  const table = /^\/([A-Za-z0-9]+)/.exec(path)?.[1] ?? '?';
  const keyed = /\(PartitionKey=.*,RowKey=.*\)$/.test(path);
  switch (req.method) {
    case 'GET':
      return keyed ? `point-read ${table}` : `query ${table}`;
    case 'POST':
      return `insert ${table}`;
    case 'PUT':
      return `replace/upsert ${table}`;
    case 'MERGE':
    case 'PATCH':
      return `merge ${table}`;
    case 'DELETE':
      return `delete ${table}`;
    default:
      return `${req.method} ${table}`;
  }
}

/** One operation inside an entity group transaction, from its request line. */
function batchOperations(body: string): string[] {
  const ops: string[] = [];
  for (const m of body.matchAll(/^(POST|PUT|MERGE|PATCH|DELETE) (\S+) HTTP\/1\.1$/gm)) ops.push(classify({ method: m[1]!, url: m[2]! }));
  return ops;
}

/**
 * Counts storage requests by kind (an SDK pipeline policy feeds it), the
 * operations inside each entity group transaction, and the entities queries
 * return. Table creation and deletion are kept apart.
 */
export class RequestCounter {
  readonly byKind = new Map<string, number>();
  /** Operations inside $batch requests, by kind ("insert proposals", "delete staging", …). */
  readonly batchOps = new Map<string, number>();
  /** Entities returned by queries, by table. */
  readonly entitiesRead = new Map<string, number>();
  /** Queries that returned no entity: the fixed scans of a timer run (empty shards), not any one unit's work. */
  emptyQueries = 0;
  enabled = true;

  private static bump(map: Map<string, number>, key: string, by = 1): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }

  policy(): PipelinePolicy {
    return {
      name: 'benchRequestCounter',
      sendRequest: async (request, next) => {
        if (!this.enabled) return next(request);
        let kind = classify(request);
        if (kind === 'batch' && typeof request.body === 'string') {
          const ops = batchOperations(request.body);
          for (const op of ops) RequestCounter.bump(this.batchOps, op);
          // A transaction is one partition of one table: named by it, so a table's requests can be told apart.
          kind = `batch ${ops[0]?.split(' ')[1] ?? '?'}`;
        }
        RequestCounter.bump(this.byKind, kind);
        const response = await next(request);
        if (kind.startsWith('query ') && response.status === 200 && response.bodyAsText) {
          try {
            const n = (JSON.parse(response.bodyAsText) as { value?: unknown[] }).value?.length ?? 0;
            RequestCounter.bump(this.entitiesRead, kind.slice('query '.length), n);
            if (n === 0) this.emptyQueries++;
          } catch {
            // not a JSON listing
          }
        }
        return response;
      },
    };
  }

  /** Data requests (every kind but table creation and deletion). */
  get total(): number {
    let n = 0;
    for (const [k, v] of this.byKind) if (k !== 'table-admin') n += v;
    return n;
  }

  /**
   * Entity operations, the unit of Table Storage's scale targets: each single-entity request, each
   * operation inside a transaction, and each entity a query returned.
   */
  get entityOperations(): number {
    let n = 0;
    for (const [k, v] of this.byKind) if (k !== 'table-admin' && !k.startsWith('batch ') && !k.startsWith('query ')) n += v;
    for (const v of this.batchOps.values()) n += v;
    for (const v of this.entitiesRead.values()) n += v;
    return n;
  }

  reset(): void {
    this.byKind.clear();
    this.batchOps.clear();
    this.entitiesRead.clear();
    this.emptyQueries = 0;
  }

  /** Requests by kind, with the table prefix taken off the table names. */
  snapshot(prefix = ''): Record<string, number> {
    return RequestCounter.plain(this.byKind, prefix, (k) => k !== 'table-admin');
  }

  batchSnapshot(prefix = ''): Record<string, number> {
    return RequestCounter.plain(this.batchOps, prefix);
  }

  readSnapshot(prefix = ''): Record<string, number> {
    return RequestCounter.plain(this.entitiesRead, prefix);
  }

  private static plain(map: Map<string, number>, prefix: string, keep: (k: string) => boolean = () => true): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of map)
      if (keep(k)) out[prefix ? k.split(prefix).join('') : k] = (out[prefix ? k.split(prefix).join('') : k] ?? 0) + v;
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  }
}

// ---------------------------------------------------------------- runtimes over Azurite

export interface BenchRuntime {
  rt: Runtime;
  counter: RequestCounter;
  prefix: string;
  env: Record<string, string>;
  /** Deletes this runtime's tables, so Azurite's memory does not carry one measurement into the next. */
  drop(): Promise<void>;
}

export function freshPrefix(tag: string): string {
  return `b${tag.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}${randomBytes(4).toString('hex')}`;
}

/** App settings for a bench runtime: the bench's Azurite and tables of its own. */
export function benchEnvironment(connectionString: string, prefix: string): Record<string, string> {
  return {
    AzureWebJobsStorage: connectionString,
    TABLE_PREFIX: prefix,
    AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
    POSTING_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
  };
}

/**
 * The product's runtime, built by createRuntime with a request-counting policy
 * in the storage pipeline. The counter is reset after the tables are created,
 * so start-up is never counted.
 */
export async function benchRuntime(connectionString: string, tag: string): Promise<BenchRuntime> {
  const prefix = freshPrefix(tag);
  const env = benchEnvironment(connectionString, prefix);
  const counter = new RequestCounter();
  const rt = await createRuntime(readSettings(env), {
    storage: { additionalPolicies: [{ policy: counter.policy(), position: 'perCall' }] },
  });
  counter.reset();
  return {
    rt,
    counter,
    prefix,
    env,
    drop: async () => {
      await rt.close();
      const service = TableServiceClient.fromConnectionString(connectionString, { allowInsecureConnection: true });
      await Promise.all(TABLE_NAMES.map((n) => service.deleteTable(`${prefix}${n}`).catch(() => undefined)));
    },
  };
}

// ---------------------------------------------------------------- helpers

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The product's pool (shared/pipeline/inParallel.ts), for the bench's loops. */
export const pool = <T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<unknown>) =>
  inParallel(items, limit, work).then(() => undefined);

/** Writes rows that share a partition in transactions of up to 100, with `limit` transactions at once. */
export async function writeBatches(
  table: TableClient,
  rows: readonly { partitionKey: string; rowKey: string }[],
  limit = 8,
  action: 'create' | 'upsert' = 'create',
): Promise<void> {
  const byPartition = new Map<string, { partitionKey: string; rowKey: string }[]>();
  for (const r of rows) {
    const list = byPartition.get(r.partitionKey) ?? [];
    list.push(r);
    byPartition.set(r.partitionKey, list);
  }
  const batches = [...byPartition.values()].flatMap((list) => chunk(list, 100));
  await pool(batches, limit, (batch) =>
    table.submitTransaction(batch.map((e): TransactionAction => (action === 'create' ? ['create', e] : ['upsert', e, 'Replace']))),
  );
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`bench check failed: ${message}`);
}
