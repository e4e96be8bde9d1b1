import type { HttpFunction } from '../shared/hosting/definition';

/**
 * Route templates as the Functions host reads them (`a/{b}/c`, `{*rest}`), with
 * its precedence: literal segments before parameters before a catch-all, so
 * `invoice-proposals/{le}/{id}/posted` wins over `invoice-proposals/{*path}`.
 */
type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'catchAll'; name: string };

export interface CompiledRoute {
  def: HttpFunction;
  segments: Segment[];
}

export function compileRoute(def: HttpFunction): CompiledRoute {
  const segments = def.route
    .split('/')
    .filter(Boolean)
    .map((s): Segment => {
      const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\??\}$/.exec(s);
      if (!m) return { kind: 'literal', text: s.toLowerCase() };
      return m[1] ? { kind: 'catchAll', name: m[2]! } : { kind: 'param', name: m[2]! };
    });
  return { def, segments };
}

const rank = { literal: 0, param: 1, catchAll: 2 } as const;

function compare(a: CompiledRoute, b: CompiledRoute): number {
  for (let i = 0; i < Math.max(a.segments.length, b.segments.length); i++) {
    const x = a.segments[i];
    const y = b.segments[i];
    if (!x || !y) return x ? -1 : 1;
    if (rank[x.kind] !== rank[y.kind]) return rank[x.kind] - rank[y.kind];
  }
  return 0;
}

export function routeTable(defs: readonly HttpFunction[]): CompiledRoute[] {
  return defs.map(compileRoute).sort(compare);
}

/** Route parameters, or undefined when the path does not fit the template. */
export function matchRoute(route: CompiledRoute, path: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, seg] of route.segments.entries()) {
    if (seg.kind === 'catchAll') {
      params[seg.name] = path.slice(i).join('/');
      return params;
    }
    const part = path[i];
    if (part === undefined) return undefined;
    if (seg.kind === 'literal' && part.toLowerCase() !== seg.text) return undefined;
    if (seg.kind === 'param') params[seg.name] = part;
  }
  return path.length === route.segments.length ? params : undefined;
}

/** The function for a method and path: the most specific route that fits and accepts the method. */
export function resolve(table: readonly CompiledRoute[], method: string, path: string[]) {
  for (const route of table) {
    if (!route.def.methods.includes(method as never)) continue;
    const params = matchRoute(route, path);
    if (params) return { def: route.def, params };
  }
  return undefined;
}
