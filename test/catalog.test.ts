import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionDefinitions } from '../host/catalog';

describe('function catalog', () => {
  it('lists every file in functions/ exactly once, under the name Azure registers it with', () => {
    const files = readdirSync(join(__dirname, '..', 'functions'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    expect(functionDefinitions.map((d) => d.name).sort()).toEqual(files.sort());
  });
});
