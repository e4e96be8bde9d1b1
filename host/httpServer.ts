import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HttpRequest, HttpResponse, type HttpResponseInit } from '@azure/functions';
import type { FunctionDefinition, HttpFunction } from '../shared/hosting/definition';
import { problem } from '../shared/http/problem';
import type { Invocations } from './invocation';
import { resolve, routeTable } from './routes';

/** Largest request the local host reads (the Azure front end allows 100 MB; the functions enforce their own limits). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

export interface AdminApi {
  /** Runs a non-HTTP function with this input, as `POST /admin/functions/{name}` does. */
  invoke(def: FunctionDefinition, input: string): Promise<Record<string, unknown>>;
  /** Local extras under /admin/local/… (dead letters, outbound messages, queues). */
  local(path: string[], query: URLSearchParams): Promise<unknown | undefined>;
}

class TooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function send(res: ServerResponse, result: HttpResponseInit | HttpResponse): Promise<void> {
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  res.writeHead(response.status, headers).end(body);
}

function keyMatches(expected: string, given: string | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function pathSegments(pathname: string, prefix: string): string[] | undefined {
  try {
    return pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/**
 * HTTP functions under /api with the same routes, methods and status codes as
 * in Azure, function keys when LOCAL_FUNCTION_KEY is set, and the admin call.
 */
export function createHttpServer(options: {
  functions: readonly FunctionDefinition[];
  invocations: Invocations;
  admin: AdminApi;
  functionKey?: string;
}): Server {
  const table = routeTable(options.functions.filter((d): d is HttpFunction => d.kind === 'http'));
  const byName = new Map(options.functions.map((d) => [d.name.toLowerCase(), d]));

  const authorized = (req: IncomingMessage, url: URL) =>
    !options.functionKey ||
    keyMatches(options.functionKey, (req.headers['x-functions-key'] as string | undefined) ?? url.searchParams.get('code'));
  const unauthorized = () =>
    problem('unauthorized', 'x-functions-key: a valid function key is required (header x-functions-key or query parameter code)', {
      field: 'x-functions-key',
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const method = (req.method ?? 'GET').toUpperCase();

    if (url.pathname.startsWith('/admin/')) {
      if (!authorized(req, url)) return send(res, unauthorized());
      const path = pathSegments(url.pathname, '/admin/') ?? [];
      if (method === 'GET' && path.join('/') === 'host/status')
        return send(res, { jsonBody: { state: 'Running', inFlight: options.invocations.inFlight } });
      if (method === 'POST' && path[0] === 'functions' && path.length === 2) {
        const def = byName.get(path[1]!.toLowerCase());
        if (!def) return send(res, problem('not-found', `function ${path[1]} does not exist`));
        if (def.kind === 'http')
          return send(
            res,
            problem('invalid-request', `${def.name} is an HTTP function: call its route /api/${def.route}`, { field: 'functionName' }),
          );
        let input: unknown;
        try {
          input = (JSON.parse((await readBody(req)).toString('utf8') || '{}') as { input?: unknown }).input ?? '';
        } catch {
          return send(res, problem('invalid-request', 'body: must be JSON like {"input": "<message text>"}', { field: 'body' }));
        }
        if (typeof input !== 'string')
          return send(res, problem('invalid-request', 'input: must be the message text, a string', { field: 'input' }));
        return send(res, { status: 202, jsonBody: await options.admin.invoke(def, input) });
      }
      if (method === 'GET' && path[0] === 'local') {
        const view = await options.admin.local(path.slice(1), url.searchParams);
        if (view !== undefined) return send(res, { jsonBody: view });
      }
      return send(res, problem('not-found', `${method} ${url.pathname} is not an admin endpoint of the local host`));
    }

    const path = url.pathname.toLowerCase().startsWith('/api/') ? pathSegments(url.pathname, '/api/') : undefined;
    if (!path) return send(res, problem('not-found', `${url.pathname}: not found`));
    const match = resolve(table, method, path);
    if (!match) return send(res, { status: 404 }); // what the Functions host answers for no route
    if (match.def.authLevel === 'function' && !authorized(req, url)) return send(res, unauthorized());

    const body = await readBody(req);
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v]])),
    );
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers,
      params: match.params,
      query: Object.fromEntries(url.searchParams),
      ...(body.length ? { body: { bytes: body } } : {}),
    });
    const result = await options.invocations.track(
      Promise.resolve(match.def.handler(request, options.invocations.context(match.def.name))),
    );
    return send(res, result);
  }

  return createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      const response =
        e instanceof TooLarge
          ? problem('payload-too-large', `body: must be at most ${MAX_REQUEST_BYTES} bytes`, { field: 'body' })
          : problem('internal-error', 'The function failed; see the host log for the invocation.');
      if (!(e instanceof TooLarge)) console.error(e);
      void send(res, response);
    });
  });
}
