/**
 * A stand-in for the Dataverse Web API (Dataverse cannot run here), served by
 * node:http on 127.0.0.1 at a random port under /api/data/v9.2/. It keeps a
 * log of every request (and of every operation, batch parts included) so
 * tests can check, for instance, that every PATCH carried If-Match or that
 * nothing was sent before a Retry-After had passed; and it answers 429 with
 * Retry-After on demand, as the service protection limits do. No token is
 * required: the local loopback address stands for an environment without one.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { executeBatch, parseBatch } from './batch';
import { PROJECT_OPERATIONS_SETS, type EntitySets } from './entitySets';
import { executeOperation } from './operations';
import { ERROR_CODES, ODataError, THROTTLE_MESSAGES, errorResponse, type SimResponse } from './odataResponses';
import { DataverseRecords, type Row } from './records';

export const API_PATH = '/api/data/v9.2/';

export type LoggedRequest = {
  readonly method: string;
  /** Path and query relative to the API root (for an operation inside a $batch, its own). */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** Date.now() when the request arrived. */
  readonly time: number;
  readonly status: number;
  readonly via: 'http' | 'batch';
};

export type Throttling = { readonly retryAfterSeconds: number; readonly code?: string };

export type DataverseSimulator = {
  /** What DATAVERSE_URL would be: http://127.0.0.1:<port> */
  readonly url: string;
  /** The Web API root, ending in /api/data/v9.2/ */
  readonly apiUrl: string;
  readonly records: DataverseRecords;
  /** HTTP requests as received, in order. */
  readonly requests: readonly LoggedRequest[];
  /** Every operation executed: plain requests and each part of a $batch. */
  readonly operations: readonly LoggedRequest[];
  /** The next `count` requests get 429 with Retry-After; until it passes, every request gets 429 too. */
  throttleNext(count: number, throttling: Throttling): void;
  close(): Promise<void>;
};

export type SimulatorOptions = {
  readonly sets?: EntitySets;
  readonly seed?: Readonly<Record<string, readonly Row[]>>;
  readonly port?: number;
  /** The first versionnumber handed out; set it beyond 2^53 to test that clients keep versions exact. */
  readonly firstVersion?: bigint;
};

export async function startDataverseSimulator(options: SimulatorOptions = {}): Promise<DataverseSimulator> {
  const records = new DataverseRecords(options.sets ?? PROJECT_OPERATIONS_SETS, options.firstVersion);
  for (const [set, rows] of Object.entries(options.seed ?? {})) records.seed(set, rows);
  const requests: LoggedRequest[] = [];
  const operations: LoggedRequest[] = [];
  let pending: { count: number; throttling: Throttling } | undefined;
  let throttledUntil = 0;
  let apiUrl = '';

  function throttled(now: number): SimResponse | undefined {
    let throttling: Throttling | undefined;
    if (now < throttledUntil) throttling = { retryAfterSeconds: Math.ceil((throttledUntil - now) / 1000) };
    else if (pending && pending.count > 0) {
      pending.count--;
      throttling = pending.throttling;
      throttledUntil = now + throttling.retryAfterSeconds * 1000;
    }
    if (!throttling) return undefined;
    const code = throttling.code ?? ERROR_CODES.numberOfRequests;
    return errorResponse(new ODataError(429, code, THROTTLE_MESSAGES[code] ?? 'Too many requests.'), {
      'Retry-After': String(throttling.retryAfterSeconds),
    });
  }

  function handle(method: string, path: string, headers: Record<string, string>, body: string, now: number): SimResponse {
    const limited = throttled(now);
    if (limited) return limited;
    if (path.split('?')[0] === '$batch' && method === 'POST') {
      const items = parseBatch(body, headers['content-type'], API_PATH);
      return executeBatch(records, items, {
        apiUrl,
        continueOnError: /odata\.continue-on-error/.test(headers.prefer ?? ''),
        onOperation: (op, response) =>
          operations.push({ method: op.method, url: op.path, headers: op.headers, time: now, status: response.status, via: 'batch' }),
      });
    }
    const response = executeOperation(records, { method, path, headers, body }, apiUrl);
    operations.push({ method, url: path, headers, time: now, status: response.status, via: 'http' });
    return response;
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    const url = req.url ?? '/';
    const at = url.indexOf(API_PATH);
    const path = at === -1 ? url : url.slice(at + API_PATH.length);
    let response: SimResponse;
    try {
      response =
        at === -1
          ? errorResponse(new ODataError(404, ERROR_CODES.unknownProperty, `The stand-in serves only ${API_PATH}`))
          : handle(req.method ?? 'GET', path, headers, Buffer.concat(chunks).toString('utf8'), now);
    } catch (e) {
      response = errorResponse(
        e instanceof ODataError ? e : new ODataError(500, ERROR_CODES.invalidArgument, `Stand-in failure: ${(e as Error).message}`),
      );
    }
    requests.push({ method: req.method ?? 'GET', url: path, headers, time: now, status: response.status, via: 'http' });
    res.writeHead(response.status, response.headers);
    res.end(response.body);
  }

  const server = createServer((req, res) => void serve(req, res));
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  apiUrl = `${url}${API_PATH}`;
  return {
    url,
    apiUrl,
    records,
    requests,
    operations,
    throttleNext(count, throttling) {
      pending = { count, throttling };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
