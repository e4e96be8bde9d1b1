/**
 * Responses in the Web API's forms: the OData error body
 * {"error":{"code":"0x…","message":"…"}} with Dataverse's hexadecimal codes,
 * and JSON text in which a bigint (versionnumber) is written as its exact digits.
 */
export type SimResponse = { status: number; headers: Record<string, string>; body?: string };

/** Codes Dataverse returns for the situations the stand-in reproduces. */
export const ERROR_CODES = {
  /** "<table> With Id = <id> Does Not Exist". */
  recordNotFound: '0x80040217',
  /** 412 when If-Match names another version. */
  versionMismatch: '0x80060882',
  /** 412 when the row exists and If-None-Match is "*", or a create repeats a key. */
  alreadyExists: '0x80040237',
  /** Unknown property or URL segment. */
  unknownProperty: '0x80060888',
  /** Malformed request (the stand-in's choice where the documentation names no code). */
  invalidArgument: '0x80040203',
  /** Service protection limits (Web API hex codes): number of requests, execution time, concurrent requests. */
  numberOfRequests: '0x80072322',
  executionTime: '0x80072321',
  concurrentRequests: '0x80072326',
} as const;

export const THROTTLE_MESSAGES: Record<string, string> = {
  [ERROR_CODES.numberOfRequests]: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
  [ERROR_CODES.executionTime]:
    'Combined execution time of incoming requests exceeded limit of 1,200,000 milliseconds over time window of 300 seconds.',
  [ERROR_CODES.concurrentRequests]: 'Number of concurrent requests exceeded the limit of 52.',
};

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Unknown';
}

export const ODATA_HEADERS = { 'OData-Version': '4.0' };
const JSON_HEADERS = { ...ODATA_HEADERS, 'Content-Type': 'application/json; odata.metadata=minimal' };

export class ODataError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorResponse(error: ODataError, headers: Record<string, string> = {}): SimResponse {
  return {
    status: error.status,
    headers: { ...JSON_HEADERS, ...headers },
    body: jsonText({ error: { code: error.code, message: error.message } }),
  };
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: jsonText(value) };
}

/** JSON.stringify, except that bigints come out as exact number literals. */
export function jsonText(value: unknown): string {
  const digits: string[] = [];
  const marked = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `\u0000${digits.push(v.toString()) - 1}\u0000` : v));
  return marked.replace(/"\\u0000(\d+)\\u0000"/g, (_m, i: string) => digits[Number(i)]!);
}
