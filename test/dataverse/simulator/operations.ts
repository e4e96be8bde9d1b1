/**
 * One Web API operation against the stand-in's rows, as Microsoft's articles
 * describe it:
 * - GET set(key) / set(alternatekey='value') with $select/$expand; If-None-Match → 304.
 * - GET set with $filter/$select/$expand/$count/$top; Prefer odata.maxpagesize → @odata.nextLink.
 * - POST set creates (204 + OData-EntityId, or 201 with Prefer return=representation).
 * - PATCH set(key) is an upsert: without If-Match it CREATES a missing row
 *   ("Perform conditional operations using the Web API"); If-Match: * turns a
 *   missing row into 404; If-Match W/"v" of another version is 412;
 *   If-None-Match: * on an existing row is 412.
 * - DELETE set(key), with If-Match checked the same way.
 * Used for plain requests and for each part of a $batch.
 */
import { DataverseRecords, type AlternateKey, type Row } from './records';
import { literal, matches, parseQueryOptions, type QueryOptions } from './odataQuery';
import { ERROR_CODES, ODataError, ODATA_HEADERS, errorResponse, jsonResponse, type SimResponse } from './odataResponses';
import type { EntitySetDefinition } from './entitySets';

export type OperationRequest = {
  readonly method: string;
  /** Relative to the API root, e.g. "msdyn_actuals(…)?$select=…". */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
};

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAX_PAGE = 5000;

export function executeOperation(records: DataverseRecords, request: OperationRequest, apiUrl: string): SimResponse {
  try {
    return operate(new Operation(records, request, apiUrl));
  } catch (e) {
    if (e instanceof ODataError) return errorResponse(e);
    throw e;
  }
}

function operate(op: Operation): SimResponse {
  const { method } = op.request;
  if (op.key === undefined) {
    if (method === 'GET') return op.list();
    if (method === 'POST') return op.create();
  } else {
    if (method === 'GET') return op.retrieve();
    if (method === 'PATCH') return op.upsert();
    if (method === 'DELETE') return op.remove();
  }
  throw new ODataError(405, ERROR_CODES.invalidArgument, `${method} is not supported on ${op.set}${op.key === undefined ? '' : '(…)'}`);
}

class Operation {
  readonly set: string;
  readonly definition: EntitySetDefinition;
  readonly key: string | undefined;
  readonly query: URLSearchParams;

  constructor(
    readonly records: DataverseRecords,
    readonly request: OperationRequest,
    readonly apiUrl: string,
  ) {
    const [resource = '', search = ''] = request.path.split(/\?(.*)/s);
    const m = /^([A-Za-z_]\w*)(?:\((.*)\))?$/.exec(decodeURIComponent(resource));
    const definition = m && records.definition(m[1]!);
    if (!m || !definition) throw new ODataError(404, ERROR_CODES.unknownProperty, `Resource not found for the segment '${resource}'.`);
    this.set = m[1]!;
    this.definition = definition;
    this.key = m[2];
    this.query = new URLSearchParams(search);
  }

  list(): SimResponse {
    const options = parseQueryOptions(this.query);
    const found = this.records.rows(this.set).filter((row) => matches(row, options.filter));
    const limited = options.top === undefined ? found : found.slice(0, options.top);
    const pageSize = this.maxPageSize();
    const offset = options.skiptoken ?? 0;
    const page = limited.slice(offset, offset + (pageSize ?? MAX_PAGE));
    const body: Row = { '@odata.context': this.context(options) };
    if (options.count) body['@odata.count'] = Math.min(limited.length, MAX_PAGE);
    body.value = page.map((row) => this.project(row, options));
    if (offset + page.length < limited.length) {
      const next = new URLSearchParams(this.query);
      next.set('$skiptoken', String(offset + page.length));
      body['@odata.nextLink'] = `${this.apiUrl}${this.set}?${next.toString()}`;
    }
    return jsonResponse(200, body, pageSize === undefined ? {} : { 'Preference-Applied': `odata.maxpagesize=${pageSize}` });
  }

  retrieve(): SimResponse {
    const options = parseQueryOptions(this.query);
    const row = this.existing();
    if (!row) throw this.notFound();
    if (this.header('if-none-match') === DataverseRecords.etag(row)) return { status: 304, headers: { ...ODATA_HEADERS } };
    return jsonResponse(200, { '@odata.context': `${this.context(options)}/$entity`, ...this.project(row, options) });
  }

  create(): SimResponse {
    const columns = this.columns();
    const id = columns[this.definition.primaryKey];
    if (typeof id === 'string' && this.records.row(this.set, id)) {
      throw new ODataError(412, ERROR_CODES.alreadyExists, 'A record with matching key values already exists.');
    }
    return this.written(this.records.create(this.set, undefined, columns), 201);
  }

  upsert(): SimResponse {
    const row = this.existing();
    const ifMatch = this.header('if-match');
    if (!row) {
      // If-Match, even "*", demands an existing row: no create.
      if (ifMatch !== undefined) throw this.notFound();
      return this.written(this.records.create(this.set, this.keyId(), { ...this.alternateKeyColumns(), ...this.columns() }), 201);
    }
    if (this.header('if-none-match') === '*') {
      throw new ODataError(412, ERROR_CODES.alreadyExists, 'A record with matching key values already exists.');
    }
    this.checkVersion(row, ifMatch);
    return this.written(this.records.update(this.set, this.idOf(row), this.columns()), 200);
  }

  remove(): SimResponse {
    const row = this.existing();
    if (!row) throw this.notFound();
    this.checkVersion(row, this.header('if-match'));
    this.records.delete(this.set, this.idOf(row));
    return { status: 204, headers: { ...ODATA_HEADERS } };
  }

  private written(row: Row, representationStatus: number): SimResponse {
    const entityUrl = `${this.apiUrl}${this.set}(${this.idOf(row)})`;
    const headers = { 'OData-EntityId': entityUrl };
    if (/return=representation/.test(this.header('prefer') ?? '')) {
      return jsonResponse(representationStatus, this.project(row, parseQueryOptions(this.query)), headers);
    }
    return { status: 204, headers: { ...ODATA_HEADERS, ...headers } };
  }

  private checkVersion(row: Row, ifMatch: string | undefined): void {
    if (ifMatch === undefined || ifMatch === '*' || ifMatch === '"*"') return;
    const wanted = ifMatch.split(',').map((tag) => tag.trim());
    if (!wanted.includes(DataverseRecords.etag(row))) {
      throw new ODataError(
        412,
        ERROR_CODES.versionMismatch,
        "The version of the existing record doesn't match the RowVersion property provided.",
      );
    }
  }

  private existing(): Row | undefined {
    const id = this.keyId();
    return id ? this.records.row(this.set, id) : this.records.findByAlternateKey(this.set, this.alternateKey());
  }

  private keyId(): string | undefined {
    return this.key !== undefined && GUID.test(this.key) ? this.key.toLowerCase() : undefined;
  }

  /** `col='value'[,col2=…]`, which must be one of the table's alternate keys, as in Dataverse. */
  private alternateKey(): AlternateKey {
    const pairs = [...(this.key ?? '').matchAll(/\s*(\w+)\s*=\s*('(?:[^']|'')*'|[^,]+)\s*(?:,|$)/g)];
    const key = Object.fromEntries(pairs.map(([, column, value]) => [column!, literal(value!.trim()) as string | number]));
    const columns = Object.keys(key).sort().join(',');
    const declared = (this.definition.alternateKeys ?? []).some((k) => [...k].sort().join(',') === columns);
    if (pairs.length === 0 || !declared) {
      throw new ODataError(
        400,
        ERROR_CODES.invalidArgument,
        `'${this.key}' is neither a GUID nor an alternate key of ${this.definition.logicalName}.`,
      );
    }
    return key;
  }

  private alternateKeyColumns(): Row {
    return this.keyId() ? {} : { ...this.alternateKey() };
  }

  private idOf(row: Row): string {
    return String(row[this.definition.primaryKey]);
  }

  private notFound(): ODataError {
    const id = this.keyId() ?? this.key;
    return new ODataError(404, ERROR_CODES.recordNotFound, `${this.definition.logicalName} With Id = ${id} Does Not Exist`);
  }

  private header(name: string): string | undefined {
    return this.request.headers[name];
  }

  private maxPageSize(): number | undefined {
    const m = /odata\.maxpagesize=(\d+)/.exec(this.header('prefer') ?? '');
    const size = m ? Number(m[1]) : undefined;
    return size !== undefined && size > 0 && size <= MAX_PAGE ? size : undefined;
  }

  private context(options: QueryOptions): string {
    return `${this.apiUrl}$metadata#${this.set}${options.select ? `(${options.select.join(',')})` : ''}`;
  }

  /** The request body's columns; nav@odata.bind becomes the lookup's GUID. */
  private columns(): Row {
    let body: unknown;
    try {
      body = this.request.body.trim() === '' ? {} : JSON.parse(this.request.body);
    } catch {
      throw new ODataError(400, ERROR_CODES.invalidArgument, 'The request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ODataError(400, ERROR_CODES.invalidArgument, 'The request body must be a JSON object.');
    }
    const columns: Row = {};
    for (const [name, value] of Object.entries(body)) {
      const bind = /^(\w+)@odata\.bind$/.exec(name);
      if (bind) this.bind(columns, bind[1]!, value);
      else if (!name.startsWith('@odata.')) columns[this.writable(name)] = value;
    }
    return columns;
  }

  private bind(columns: Row, navigation: string, value: unknown): void {
    const nav = this.definition.navigation?.[navigation];
    if (!nav) throw this.unknownProperty(navigation);
    const m = typeof value === 'string' ? /(?:^|\/)(\w+)\(([0-9a-fA-F-]{36})\)$/.exec(value) : null;
    if (!m || m[1] !== nav.target)
      throw new ODataError(400, ERROR_CODES.invalidArgument, `${navigation}@odata.bind must be "/${nav.target}(<guid>)".`);
    columns[nav.lookup] = m[2]!.toLowerCase();
  }

  private writable(column: string): string {
    const declared = this.definition.columns;
    if (declared && !declared.includes(column) && column !== this.definition.primaryKey) throw this.unknownProperty(column);
    return column;
  }

  private unknownProperty(name: string): ODataError {
    return new ODataError(
      400,
      ERROR_CODES.unknownProperty,
      `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${this.definition.logicalName}'.`,
    );
  }

  private project(row: Row, options: QueryOptions): Row {
    const out: Row = { '@odata.etag': DataverseRecords.etag(row) };
    const columns = options.select ? [...options.select, this.definition.primaryKey] : Object.keys(row);
    for (const column of columns) out[column] = row[column] ?? null;
    for (const { navigation, select } of options.expand) {
      const nav = this.definition.navigation?.[navigation];
      if (!nav) throw this.unknownProperty(navigation);
      const id = row[nav.lookup];
      const related = typeof id === 'string' ? this.records.row(nav.target, id) : undefined;
      const target = this.records.definition(nav.target)!;
      out[navigation] = related
        ? {
            '@odata.etag': DataverseRecords.etag(related),
            ...pick(related, select ? [...select, target.primaryKey] : Object.keys(related)),
          }
        : null;
    }
    return out;
  }
}

function pick(row: Row, columns: readonly string[]): Row {
  return Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));
}
