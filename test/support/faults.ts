/**
 * Storage fault injection for the reliability tests: an @azure/core-rest-pipeline
 * policy placed in the real table clients' pipeline (createRuntime(settings,
 * { storage: { additionalPolicies } })). It fails a chosen fraction of requests
 * the ways storage does fail:
 *
 *   503        answered "server busy" without reaching storage
 *   500        answered "internal error" without reaching storage
 *   timeout    the connection times out before the request is sent (ETIMEDOUT)
 *   lostAck    the request reaches storage and is applied, the answer is lost (ETIMEDOUT)
 *   lost500    the request is applied, and the client is told 500
 *   race       a conditional write (If-Match) of a header or register row
 *              finds that another writer replaced the row just before it (a
 *              real write through a side client, same content, new ETag),
 *              so storage answers 412
 *
 * In position 'perRetry' the SDK's retry policy sees the fault and retries;
 * in 'perCall' the fault reaches the pipeline step as a thrown error, which
 * Service Bus (or the next timer run) would retry. A perCall policy sits above
 * the SDK's deserialization policy, which is what turns an error status into a
 * RestError, so there (`surface: 'throw'`) the faults are thrown as the
 * RestError the SDK would throw once its retries are spent, never returned as
 * a response an operation would take for a success.
 */
import { createHttpHeaders, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { RestError, TableClient } from '@azure/data-tables';
import type { PipelinePolicy } from './reliabilityWorker';
import { isHeaderRow } from '../../shared/storage/proposalRows';

export type FaultKind = '503' | '500' | 'timeout' | 'lostAck' | 'lost500' | 'race';

export interface FaultOptions {
  name: string;
  /** Fraction of requests that fail, 0..1. Change it at any time (0 stops the faults). */
  rate: number;
  /** Fraction of conditional header/register writes that meet a competing write first (412), on top of `rate`. */
  raceRate?: number;
  kinds: readonly FaultKind[];
  /** A random source in [0, 1), seeded by the test so a run can be replayed. */
  random: () => number;
  /** Connection string for the side client that makes the competing writes of a `race`. */
  connectionString: string;
  /** 'response' below the retry policy (perRetry), 'throw' above the deserialization policy (perCall). */
  surface: 'response' | 'throw';
}

export interface FaultInjector {
  policy: PipelinePolicy;
  options: FaultOptions;
  /** Faults injected, by kind. */
  counts: Record<FaultKind, number>;
  /** Requests seen. */
  requests: number;
}

function response(request: PipelineRequest, status: number, code: string): PipelineResponse {
  return {
    request,
    status,
    headers: createHttpHeaders({ 'content-type': 'application/json;odata=minimalmetadata' }),
    bodyAsText: JSON.stringify({ 'odata.error': { code, message: { lang: 'en-US', value: `injected fault: ${code}` } } }),
  };
}

const timeout = (request: PipelineRequest) => new RestError('injected fault: the connection timed out', { code: 'ETIMEDOUT', request });

interface Target {
  table: string;
  partitionKey: string;
  rowKey: string;
}

const unquote = (s: string) => decodeURIComponent(s).replace(/''/g, "'");

/** The row a request (or one operation of a $batch) writes on condition of an ETag, if it is a header or a register row. */
export function conditionalTarget(request: PipelineRequest): Target | undefined {
  const parse = (url: string): Target | undefined => {
    const m = /\/([A-Za-z0-9]+)\(PartitionKey='([^']*(?:''[^']*)*)',RowKey='([^']*(?:''[^']*)*)'\)/.exec(url);
    return m ? { table: m[1]!, partitionKey: unquote(m[2]!), rowKey: unquote(m[3]!) } : undefined;
  };
  const contended = (t: Target | undefined) => (t && (isHeaderRow(t.rowKey) || t.rowKey === 'actual') ? t : undefined);
  if (typeof request.body === 'string' && request.url.includes('$batch')) {
    for (const part of request.body.split(/--changeset_[0-9a-f-]+/)) {
      const line = /^(PUT|MERGE|PATCH|DELETE) (\S+) HTTP\/1\.1$/m.exec(part);
      const ifMatch = /^If-Match: (.+)$/m.exec(part)?.[1]?.trim();
      if (line && ifMatch && ifMatch !== '*') {
        const t = contended(parse(line[2]!));
        if (t) return t;
      }
    }
    return undefined;
  }
  const ifMatch = request.headers.get('if-match');
  if (!ifMatch || ifMatch === '*') return undefined;
  return contended(parse(request.url));
}

/**
 * Another writer replaces the row with the same content: its ETag changes, nothing else does. Its write is
 * conditional on the ETag it read, as every writer's is: unconditional, it could put back an older content
 * that a concurrent delivery replaced meanwhile (a lost update of the stand-in's own making).
 */
async function competingWrite(connectionString: string, t: Target): Promise<boolean> {
  const side = TableClient.fromConnectionString(connectionString, t.table, { allowInsecureConnection: true });
  try {
    const e = await side.getEntity<Record<string, unknown>>(t.partitionKey, t.rowKey);
    const copy = Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'etag' && k !== 'timestamp' && !k.startsWith('odata')));
    await side.updateEntity(copy as { partitionKey: string; rowKey: string }, 'Replace', { etag: e.etag });
    return true;
  } catch {
    return false; // the row is gone, not there yet, or changed meanwhile: no race to make
  }
}

export function faultInjector(options: FaultOptions): FaultInjector {
  const counts: Record<FaultKind, number> = { '503': 0, '500': 0, timeout: 0, lostAck: 0, lost500: 0, race: 0 };
  const injector: FaultInjector = {
    options,
    counts,
    requests: 0,
    policy: {
      name: options.name,
      async sendRequest(request, next) {
        injector.requests++;
        const target = options.raceRate ? conditionalTarget(request) : undefined;
        if (target && options.random() < options.raceRate! && (await competingWrite(options.connectionString, target))) {
          counts.race++;
          return next(request);
        }
        if (options.rate <= 0 || options.random() >= options.rate) return next(request);
        let kind = options.kinds[Math.floor(options.random() * options.kinds.length)]!;
        if (kind === 'race') {
          const t = conditionalTarget(request);
          if (!(t && (await competingWrite(options.connectionString, t)))) kind = '503';
        }
        counts[kind]++;
        const fail = (status: number, code: string): PipelineResponse => {
          const r = response(request, status, code);
          if (options.surface === 'response') return r;
          throw new RestError(`injected fault: ${code}`, { statusCode: status, code, request, response: r });
        };
        switch (kind) {
          case '503':
            return fail(503, 'ServerBusy');
          case '500':
            return fail(500, 'InternalError');
          case 'timeout':
            throw timeout(request);
          case 'lostAck':
            await next(request);
            throw timeout(request);
          case 'lost500':
            await next(request);
            return fail(500, 'InternalError');
          case 'race':
            return next(request);
        }
      },
    },
  };
  return injector;
}
