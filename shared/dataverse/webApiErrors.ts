/**
 * What a Web API failure means for the write-back, from the error
 * dynamics-web-api throws or returns for a $batch part: an Error carrying the
 * response's `status`, `headers` (lower-case names, as node:http gives them)
 * and the OData error's `code` and `message`; a network failure or timeout is
 * a plain Error with no status.
 */
export type WebApiFailure =
  /** 429: the service protection limits; wait at least retryAfterMs before the next request. */
  | { kind: 'throttled'; retryAfterMs: number; detail: string }
  /** 5xx, 408, 401/403, a timeout or a dropped connection: try again later (Service Bus redelivers). */
  | { kind: 'transient'; detail: string }
  /** 404: the record is not there (deleted in Dataverse). */
  | { kind: 'notFound'; detail: string }
  /** Any other 4xx: this request will fail the same way every time. */
  | { kind: 'refused'; detail: string };

/** When the documentation's Retry-After is missing or unreadable, wait this long rather than not at all. */
const DEFAULT_RETRY_AFTER_MS = 5_000;

type ErrorShape = { status?: unknown; headers?: unknown; code?: unknown; message?: unknown; error?: { code?: unknown; message?: unknown } };

export function webApiFailure(error: unknown): WebApiFailure {
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as ErrorShape;
  const status = typeof e.status === 'number' ? e.status : undefined;
  const detail = describe(e, status);
  if (status === undefined) return { kind: 'transient', detail };
  if (status === 429) return { kind: 'throttled', retryAfterMs: retryAfterMs(e.headers), detail };
  if (status === 404) return { kind: 'notFound', detail };
  // 401/403: the application user or its role is not there yet; an administrator fixes that, the message must not be lost meanwhile.
  if (status >= 500 || status === 408 || status === 401 || status === 403) return { kind: 'transient', detail };
  return { kind: 'refused', detail };
}

/** Retry-After in milliseconds: delta-seconds (what Dataverse sends) or an HTTP date. */
export function retryAfterMs(headers: unknown, now = Date.now()): number {
  const value = headerValue(headers, 'retry-after');
  if (value === undefined) return DEFAULT_RETRY_AFTER_MS;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_MS : Math.max(0, at - now);
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : String(v);
  }
  return undefined;
}

function describe(e: ErrorShape, status: number | undefined): string {
  // A $batch part's OData error stays nested under `error`; a plain request's is spread onto the Error.
  const odata = typeof e.error === 'object' && e.error !== null ? e.error : e;
  const message = typeof odata.message === 'string' && odata.message ? odata.message : 'no message';
  const code = typeof odata.code === 'string' && odata.code ? ` ${odata.code}` : '';
  return status === undefined ? `no answer from the Web API: ${message}` : `HTTP ${status}${code}: ${message}`;
}
