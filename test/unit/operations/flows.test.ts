import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLOW_NAMES, FLOWS, flowOfFunction, isFlowName } from '../../../shared/operations/flows';

/** The app's functions by name, and whether each is HTTP, from functions/ (one file per function, its name in the definition). */
const FUNCTIONS_DIR = join(__dirname, '..', '..', '..', 'functions');
const functionDefinitions = readdirSync(FUNCTIONS_DIR)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(join(FUNCTIONS_DIR, f), 'utf8'))
  .map((text) => ({ name: /\bname: '([^']+)'/.exec(text)?.[1], kind: /kind: 'http'/.test(text) ? 'http' : 'other' }));

describe('the flows an operator can pause', () => {
  it('are the four of the operations API, each with a label in business words', () => {
    expect(FLOW_NAMES).toEqual(['header-sync', 'actual-sync', 'import', 'write-back']);
    for (const f of FLOW_NAMES) expect(FLOWS[f].label).not.toMatch(/function|queue|trigger|sync[A-Z]/);
  });

  it('switch the functions that do each step, and never the posting callback or the HTTP reads', () => {
    expect(flowOfFunction('syncInvoiceProposal')).toBe('header-sync');
    expect(flowOfFunction('syncActuals')).toBe('actual-sync');
    expect(flowOfFunction('importFromStaging')).toBe('import');
    expect(flowOfFunction('importProposal')).toBe('import'); // the fast path, where it exists
    expect(flowOfFunction('writeBackAccounting')).toBe('write-back');
    // The outbox only moves updates onto the queue where a paused write-back leaves them anyway.
    expect(flowOfFunction('dispatchAccountingUpdates')).toBeUndefined();
    for (const d of functionDefinitions.filter((d) => d.kind === 'http')) expect(flowOfFunction(d.name!)).toBeUndefined();
  });

  it('reads the functions of the app', () => {
    expect(functionDefinitions.filter((d) => d.kind === 'http').map((d) => d.name)).toContain('recordPosting');
  });

  it('name only functions of the app (the import fast path may not be in the catalog yet)', () => {
    const known = new Set([...functionDefinitions.map((d) => d.name), 'importProposal']);
    expect(FLOW_NAMES.flatMap((f) => FLOWS[f].functions).filter((fn) => !known.has(fn))).toEqual([]);
  });

  it('knows a flow only by its exact name', () => {
    expect(isFlowName('import')).toBe(true);
    expect(isFlowName('Import')).toBe(false);
    expect(isFlowName('toString')).toBe(false);
  });
});
