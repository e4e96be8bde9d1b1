/**
 * $batch as "Execute batch operations using the Web API" describes it:
 * a multipart/mixed body of application/http parts and change sets (nested
 * multipart/mixed). Parts run in order; a change set is atomic (a failure
 * rolls back its earlier operations and its response is that one error);
 * Content-ID values can be referenced as $n in later URLs of the change set;
 * GET is not allowed inside a change set. Without Prefer:
 * odata.continue-on-error the batch stops at the first failure and answers
 * with its status; with it, the batch answers 200 and carries every result.
 * At most 1000 operations per batch.
 */
import { randomUUID } from 'node:crypto';
import { executeOperation, type OperationRequest } from './operations';
import { ERROR_CODES, ODataError, ODATA_HEADERS, errorResponse, statusText, type SimResponse } from './odataResponses';
import type { DataverseRecords } from './records';

export const MAX_BATCH_OPERATIONS = 1000;

export type BatchOperation = OperationRequest & { readonly contentId?: string };
export type BatchItem =
  | { readonly kind: 'request'; readonly operation: BatchOperation }
  | { readonly kind: 'changeset'; readonly operations: readonly BatchOperation[] };

type Part = { readonly headers: Record<string, string>; readonly content: string };

export function boundaryOf(contentType: string | undefined): string | undefined {
  return /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
}

/** Splits a multipart body on its boundary lines (CRLF or LF). */
function parts(body: string, boundary: string): Part[] {
  const found: string[][] = [];
  let current: string[] | undefined;
  for (const line of body.split(/\r?\n/)) {
    if (line.trimEnd() === `--${boundary}--`) break;
    if (line.trimEnd() === `--${boundary}`) found.push((current = []));
    else current?.push(line);
  }
  return found.map((lines) => {
    const blank = lines.indexOf('');
    const headerLines = blank === -1 ? lines : lines.slice(0, blank);
    return { headers: headerMap(headerLines), content: blank === -1 ? '' : lines.slice(blank + 1).join('\n') };
  });
}

function headerMap(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The embedded HTTP request of an application/http part. */
function operation(part: Part, apiPath: string): BatchOperation {
  const [requestLine = '', ...rest] = part.content.split('\n');
  const m = /^(\w+)\s+(\S+)(?:\s+HTTP\/1\.1)?\s*$/.exec(requestLine.trim());
  if (!m) throw new ODataError(400, ERROR_CODES.invalidArgument, `Batch part has no request line: ${JSON.stringify(requestLine)}`);
  const blank = rest.indexOf('');
  const headers = headerMap(blank === -1 ? rest : rest.slice(0, blank));
  const body =
    blank === -1
      ? ''
      : rest
          .slice(blank + 1)
          .join('\n')
          .trim();
  const contentId = part.headers['content-id'];
  return { method: m[1]!.toUpperCase(), path: relativePath(m[2]!, apiPath), headers, body, ...(contentId ? { contentId } : {}) };
}

/** Absolute URL, "/api/data/v9.2/x" or "x" → "x"; "$1…" stays for the change set to resolve. */
function relativePath(url: string, apiPath: string): string {
  const path = url.replace(/^https?:\/\/[^/]+/, '');
  const at = path.indexOf(apiPath);
  if (at !== -1) return path.slice(at + apiPath.length);
  return path.replace(/^\/?api\/data\/v9\.\d+\//, '').replace(/^\//, '');
}

export function parseBatch(body: string, contentType: string | undefined, apiPath: string): BatchItem[] {
  const boundary = boundaryOf(contentType);
  if (!boundary)
    throw new ODataError(400, ERROR_CODES.invalidArgument, 'A $batch request needs Content-Type: multipart/mixed with a boundary.');
  const items = parts(body, boundary).map((part): BatchItem => {
    const inner = boundaryOf(part.headers['content-type']);
    if (!inner) return { kind: 'request', operation: operation(part, apiPath) };
    return { kind: 'changeset', operations: parts(part.content, inner).map((p) => operation(p, apiPath)) };
  });
  const count = items.reduce((n, item) => n + (item.kind === 'request' ? 1 : item.operations.length), 0);
  if (count > MAX_BATCH_OPERATIONS) {
    throw new ODataError(400, ERROR_CODES.invalidArgument, `The batch holds ${count} requests; the limit is ${MAX_BATCH_OPERATIONS}.`);
  }
  return items;
}

type Outcome = { readonly response: SimResponse; readonly contentId?: string };

export function executeBatch(
  records: DataverseRecords,
  items: readonly BatchItem[],
  options: { apiUrl: string; continueOnError: boolean; onOperation?: (op: BatchOperation, response: SimResponse) => void },
): SimResponse {
  const results: (Outcome | Outcome[])[] = [];
  let failure: SimResponse | undefined;
  for (const item of items) {
    const result = item.kind === 'request' ? [run(records, item.operation, options)] : changeSet(records, item.operations, options);
    const failed = result.find((o) => o.response.status >= 400);
    results.push(item.kind === 'request' || failed ? result[0]! : result);
    if (failed && !options.continueOnError) {
      failure = failed.response;
      break;
    }
  }
  const boundary = `batchresponse_${randomUUID()}`;
  return {
    status: failure?.status ?? 200,
    headers: { ...ODATA_HEADERS, 'Content-Type': `multipart/mixed; boundary=${boundary}` },
    body: multipart(boundary, results),
  };
}

function run(records: DataverseRecords, op: BatchOperation, options: Parameters<typeof executeBatch>[2], path = op.path): Outcome {
  const response = executeOperation(records, { ...op, path }, options.apiUrl);
  options.onOperation?.({ ...op, path }, response);
  return { response, ...(op.contentId ? { contentId: op.contentId } : {}) };
}

/** All or nothing: the first failure restores the rows and is the change set's only response. */
function changeSet(records: DataverseRecords, ops: readonly BatchOperation[], options: Parameters<typeof executeBatch>[2]): Outcome[] {
  const restore = records.snapshot();
  const created = new Map<string, string>();
  const outcomes: Outcome[] = [];
  for (const op of ops) {
    const outcome =
      op.method === 'GET'
        ? {
            response: errorResponse(new ODataError(400, ERROR_CODES.invalidArgument, 'GET requests are not allowed in a change set.')),
            ...(op.contentId ? { contentId: op.contentId } : {}),
          }
        : run(records, op, options, resolveReference(op.path, created));
    if (outcome.response.status >= 400) {
      restore();
      return [outcome];
    }
    const entityId = outcome.response.headers['OData-EntityId'];
    if (op.contentId && entityId) created.set(op.contentId, entityId.slice(options.apiUrl.length));
    outcomes.push(outcome);
  }
  return outcomes;
}

function resolveReference(path: string, created: ReadonlyMap<string, string>): string {
  const m = /^\$(\w+)(.*)$/s.exec(path);
  if (!m) return path;
  const target = created.get(m[1]!);
  if (!target)
    throw new ODataError(400, ERROR_CODES.invalidArgument, `Content-ID Reference: '$${m[1]}' does not exist in the batch context.`);
  return target + m[2];
}

function multipart(boundary: string, results: readonly (Outcome | Outcome[])[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`--${boundary}`);
    if (Array.isArray(result)) {
      const inner = `changesetresponse_${randomUUID()}`;
      lines.push(`Content-Type: multipart/mixed; boundary=${inner}`, '');
      for (const outcome of result) lines.push(`--${inner}`, ...httpPart(outcome));
      lines.push(`--${inner}--`);
    } else {
      lines.push(...httpPart(result));
    }
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\r\n');
}

function httpPart({ response, contentId }: Outcome): string[] {
  return [
    'Content-Type: application/http',
    'Content-Transfer-Encoding: binary',
    ...(contentId ? [`Content-ID: ${contentId}`] : []),
    '',
    `HTTP/1.1 ${response.status} ${statusText(response.status)}`,
    ...Object.entries(response.headers).map(([name, value]) => `${name}: ${value}`),
    '',
    response.body ?? '',
  ];
}
