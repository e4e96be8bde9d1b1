import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join, posix, sep } from 'node:path';
import { settingsSchema } from '../../shared/config';

/**
 * A stand-in for the Azure Functions Node.js worker, as far as loading the app
 * goes. The worker finds the entry points through package.json "main", and
 * provides `@azure/functions-core` (not an npm package) by intercepting
 * `require`; `@azure/functions` registers each function through its
 * `registerFunction(metadata, callback)`. This does the same and records what
 * would reach the host: the binding metadata it indexes and the callback it
 * invokes. Everything else (the product code, `@azure/functions`, the SDKs) is
 * the real thing, loaded by Node from `appRoot`.
 */

export type Binding = { type: string; direction: 'in' | 'out'; [property: string]: unknown };
export type Callback = (...args: unknown[]) => unknown;
export interface Registration {
  name: string;
  bindings: Record<string, Binding>;
  callback: Callback;
}
export interface ColdStart {
  entryPoints: string[];
  registrations: Registration[];
  /** Entry points that threw while loading (the real worker then registers nothing at all). */
  loadErrors: string[];
  /** What the app wrote to console.error while loading. */
  errorLog: string[];
}

/** The files package.json "main" names (the worker accepts a glob; this app uses `dir/*.js`). */
export function entryPoints(appRoot: string): string[] {
  const main = (JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as { main?: string }).main ?? '';
  const m = /^(.*)\/\*\.js$/.exec(main);
  if (!m) throw new Error(`package.json "main" is ${JSON.stringify(main)}; expected a "dir/*.js" glob`);
  const dir = join(appRoot, ...m[1]!.split(posix.sep));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => join(dir, f));
}

const realPath = (path: string) => (existsSync(path) ? realpathSync(path) : path);

/** The app settings the product reads, replaced by `settings` (the worker's environment is the app settings). */
export function useAppSettings(settings: Record<string, string>): void {
  const known = new Set(Object.keys(settingsSchema.shape));
  for (const key of Object.keys(process.env)) if (known.has(key) || key.includes('__')) delete process.env[key];
  Object.assign(process.env, settings);
}

/** Loads every entry point of `appRoot` afresh, as a worker starting cold does. */
export function coldStart(appRoot: string): ColdStart {
  // Each cold start gets fresh module state (settings cache, runtime, @azure/functions' setup).
  // Node keys its cache by real path: a node_modules that is a symlink (a git worktree's, say) is cached under its target.
  const fresh = [join(appRoot, 'dist') + sep, realPath(join(appRoot, 'node_modules', '@azure', 'functions')) + sep];
  const cache = createRequire(__filename).cache;
  for (const key of Object.keys(cache)) if (fresh.some((prefix) => key.startsWith(prefix))) delete cache[key];

  const registrations: Registration[] = [];
  const core = {
    version: 'stand-in',
    hostVersion: 'stand-in',
    registerFunction: (metadata: { name: string; bindings: Record<string, Binding> }, callback: Callback) => {
      registrations.push({ name: metadata.name, bindings: metadata.bindings, callback });
      return { dispose: () => {} };
    },
    setProgrammingModel: () => {},
    registerHook: () => ({ dispose: () => {} }),
    log: () => {},
  };
  const errorLog: string[] = [];
  const loadErrors: string[] = [];
  const files = entryPoints(appRoot);
  const originalRequire = Module.prototype.require;
  const originalError = console.error;
  Module.prototype.require = new Proxy(originalRequire, {
    apply: (target, self, args: [string]) => (args[0] === '@azure/functions-core' ? core : Reflect.apply(target, self, args)),
  });
  console.error = (...args: unknown[]) => void errorLog.push(args.map(String).join(' '));
  try {
    const load = createRequire(join(appRoot, 'package.json'));
    for (const file of files) {
      try {
        load(file);
      } catch (e) {
        loadErrors.push(`${file.slice(dirname(appRoot).length + 1)}: ${(e as Error).message}`);
      }
    }
  } finally {
    Module.prototype.require = originalRequire;
    console.error = originalError;
  }
  return { entryPoints: files, registrations, loadErrors, errorLog };
}

/** The trigger binding of a registration, flattened to what the catalog declares. */
export function triggerOf(r: Registration): Record<string, unknown> {
  const trigger = Object.values(r.bindings).find((b) => b.direction === 'in' && /Trigger$/.test(b.type));
  if (!trigger) throw new Error(`${r.name} registered no trigger`);
  const { name: _binding, direction: _in, properties: _flags, ...declared } = trigger;
  return { function: r.name, ...declared };
}
