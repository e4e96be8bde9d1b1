/**
 * The import graph of the product, checked (docs/design.md#layers): a wrong
 * arrow fails the suite. Imports are read from the source text, the way a
 * reader sees them, so the rule holds for type-only imports too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');

/** Each layer, and what it may import: layers of this repository, and packages (by name prefix). */
const LAYERS = {
  contracts: { own: ['contracts'], packages: ['zod', 'node:'] },
  domain: { own: ['contracts', 'domain'], packages: ['node:crypto'] },
  storage: { own: ['contracts', 'domain', 'storage', 'config', 'identity'], packages: ['@azure/data-tables', 'node:'] },
  // The local queues are Table storage standing in for Service Bus: they use storage's row codecs.
  messaging: {
    own: ['contracts', 'domain', 'storage', 'messaging', 'config', 'identity'],
    packages: ['@azure/service-bus', 'long', '@azure/data-tables', 'node:'],
  },
  // The Dataverse Web API client: like messaging, an edge to a system outside.
  dataverse: {
    own: ['contracts', 'domain', 'dataverse', 'config', 'identity'],
    packages: ['dynamics-web-api', '@azure/identity', 'node:'],
  },
  pipeline: {
    own: ['contracts', 'domain', 'storage', 'messaging', 'dataverse', 'pipeline', 'runtime', 'queues'],
    packages: ['zod', 'node:'],
  },
  // Operations: what the operations API and console read and do (lists, summary, retry, pause), over the stores and the pipeline.
  operations: {
    own: ['contracts', 'domain', 'storage', 'messaging', 'pipeline', 'operations', 'runtime', 'config', 'identity', 'queues'],
    packages: ['zod', 'node:'],
  },
  http: {
    own: ['contracts', 'domain', 'pipeline', 'operations', 'http', 'runtime', 'config'],
    packages: ['@azure/functions', 'standardwebhooks', 'zod', 'node:'],
  },
  // The worker's own module is only probed for, to know whether the app runs inside the Functions host.
  hosting: {
    own: ['contracts', 'http', 'hosting', 'config', 'pipeline', 'runtime', 'queues'],
    packages: ['@azure/functions', '@azure/functions-core', 'node:'],
  },
  // The composition root and settings: the only modules that know every store and client
  // (the Dataverse lookups too: the runtime hands them to the pipeline when DATAVERSE_URL is set).
  root: {
    own: ['contracts', 'storage', 'messaging', 'dataverse', 'config', 'identity', 'queues', 'runtime'],
    packages: ['@azure/', 'zod', 'node:'],
  },
  functions: {
    own: ['contracts', 'domain', 'pipeline', 'operations', 'http', 'hosting', 'runtime', 'config', 'queues'],
    packages: ['@azure/functions'],
  },
} as const;
type Layer = keyof typeof LAYERS;

/** The layer of a repository path, or what outside the product it is. */
function layerOf(path: string): Layer | 'outside' {
  const [top, sub] = path.split('/');
  if (top === 'functions') return 'functions';
  if (top !== 'shared') return 'outside';
  if (sub && sub in LAYERS && !sub.endsWith('.ts')) return sub as Layer;
  return 'root';
}

/** `shared/config.ts` and friends are layers of one module each, named by file. */
function targetName(path: string): string {
  const [top, sub] = path.split('/');
  if (top === 'functions') return 'functions';
  if (top !== 'shared') return top!;
  return sub!.replace(/\.ts$/, '');
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

function importsOf(text: string): string[] {
  return [...text.matchAll(SPECIFIER)].map((m) => m[1]!);
}

/** Every import that breaks the rules, as "file → target (why)". */
function violations(files: readonly { path: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { path, text } of files) {
    const layer = layerOf(path);
    if (layer === 'outside') continue;
    const rule = LAYERS[layer];
    for (const spec of importsOf(text)) {
      if (spec.startsWith('.')) {
        const target = relative(ROOT, resolve(ROOT, dirname(path), spec)).replaceAll('\\', '/');
        const name = targetName(target);
        if (!target.startsWith('shared/') && !target.startsWith('functions/'))
          out.push(`${path} → ${spec} (the product never imports ${target.split('/')[0]}/)`);
        else if (!(rule.own as readonly string[]).includes(name)) out.push(`${path} → ${spec} (${layer} may not import ${name})`);
      } else if (
        !rule.packages.some((p) => spec === p || spec.startsWith(p.endsWith(':') || p.endsWith('/') ? p : `${p}/`) || spec === p)
      ) {
        out.push(`${path} → ${spec} (${layer} may not use the package ${spec})`);
      }
    }
  }
  return out;
}

describe('layers: imports flow one way', () => {
  const files = [...sources('shared'), ...sources('functions')].map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));

  it('the product follows the import graph of docs/design.md#layers', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(violations(files)).toEqual([]);
  });

  it('a wrong arrow is caught: the domain importing an SDK, storage, or the local host', () => {
    const wrong = [
      { path: 'shared/domain/importPlan.ts', text: "import { TableClient } from '@azure/data-tables';" },
      { path: 'shared/domain/importPlan.ts', text: "import type { StagingStore } from '../storage/staging';" },
      { path: 'shared/contracts/actual.ts', text: "import { planImport } from '../domain/importPlan';" },
      { path: 'shared/pipeline/stageActual.ts', text: "import { startAzurite } from '../../host/azurite';" },
      { path: 'functions/syncActuals.ts', text: "import { run } from '../bench/run';" },
      { path: 'shared/storage/staging.ts', text: "import { importFromStaging } from '../pipeline/importFromStaging';" },
    ];
    expect(violations(wrong)).toHaveLength(wrong.length);
  });
});
