/**
 * The part of OData query syntax the stand-in understands ("Query data using
 * the Web API"): $select, $filter of `column eq|ne literal` joined by `and`,
 * $expand of single-valued navigation properties with a nested $select,
 * $count=true and $top. Anything else is refused with a 400 that says so,
 * rather than answered wrongly.
 */
import { ERROR_CODES, ODataError } from './odataResponses';
import type { Row } from './records';

export type Condition = { readonly column: string; readonly operator: 'eq' | 'ne'; readonly value: unknown };
export type Expansion = { readonly navigation: string; readonly select?: readonly string[] };

export type QueryOptions = {
  readonly select?: readonly string[];
  readonly filter: readonly Condition[];
  readonly expand: readonly Expansion[];
  readonly count: boolean;
  readonly top?: number;
  /** The stand-in's paging cookie: the offset of the next page. */
  readonly skiptoken?: number;
};

const KNOWN = new Set(['$select', '$filter', '$expand', '$count', '$top', '$skiptoken']);
const CONDITION =
  /^\s*([A-Za-z_][\w.]*)\s+(eq|ne)\s+('(?:[^']|'')*'|-?\d+(?:\.\d+)?|null|true|false|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\s*$/;

function refuse(message: string): never {
  throw new ODataError(400, ERROR_CODES.invalidArgument, `The Dataverse stand-in does not support this query: ${message}`);
}

export function parseQueryOptions(params: URLSearchParams): QueryOptions {
  for (const name of params.keys()) if (!KNOWN.has(name)) refuse(`${name}`);
  const select = params.get('$select');
  const top = params.get('$top');
  const skiptoken = params.get('$skiptoken');
  return {
    ...(select ? { select: columnList(select) } : {}),
    filter: parseFilter(params.get('$filter')),
    expand: parseExpand(params.get('$expand')),
    count: params.get('$count') === 'true',
    ...(top ? { top: wholeNumber('$top', top) } : {}),
    ...(skiptoken ? { skiptoken: wholeNumber('$skiptoken', skiptoken) } : {}),
  };
}

function wholeNumber(option: string, text: string): number {
  if (!/^\d+$/.test(text)) refuse(`${option}=${text}`);
  return Number(text);
}

function columnList(text: string): string[] {
  return text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
}

/** A literal: 'text' ('' is a quote), numbers, null, booleans, bare GUIDs. */
export function literal(text: string): unknown {
  if (text.startsWith("'")) return text.slice(1, -1).replace(/''/g, "'");
  if (text === 'null') return null;
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

function parseFilter(text: string | null): Condition[] {
  if (!text) return [];
  return text.split(/\s+and\s+/).map((part) => {
    const m = CONDITION.exec(part);
    if (!m) refuse(`$filter ${JSON.stringify(part)} (only "column eq|ne literal" joined by "and")`);
    return { column: m[1]!, operator: m[2] as 'eq' | 'ne', value: literal(m[3]!) };
  });
}

/** "a($select=x,y),b" → top-level items, splitting on commas outside parentheses. */
function parseExpand(text: string | null): Expansion[] {
  if (!text) return [];
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items.map((item) => {
    const m = /^\s*(\w+)\s*(?:\(\s*\$select=([^)]*)\))?\s*$/.exec(item);
    if (!m) refuse(`$expand ${JSON.stringify(item)} (only a navigation property with an optional $select)`);
    return m[2] ? { navigation: m[1]!, select: columnList(m[2]) } : { navigation: m[1]! };
  });
}

export function matches(row: Row, filter: readonly Condition[]): boolean {
  return filter.every(({ column, operator, value }) => {
    const same = comparable(row[column]) === comparable(value);
    return operator === 'eq' ? same : !same;
  });
}

/**
 * Values compared as Dataverse does: text (GUIDs included) without regard to
 * case, as its default collation is case-insensitive; absent as null; a bigint
 * versionnumber by its digits.
 */
function comparable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'string') return value.toLowerCase();
  return value;
}
