/**
 * `npm run lint` as part of `npm test`, so CI fails on a lint or format error:
 * ESLint (type-aware) and Prettier over the whole repository. It runs as a test
 * file so it runs beside the others instead of before them.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

async function outcome(bin: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules', bin), ...args], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('lint', () => {
  it('ESLint finds nothing (floating and misused promises, type-only imports, …)', async () => {
    const r = await outcome('eslint/bin/eslint.js', ['.']);
    expect(r.output.trim(), 'npx eslint . says').toBe('');
    expect(r.code).toBe(0);
  }, 180_000);

  it('Prettier finds every file formatted', async () => {
    // Prettier's cache keeps the files it found formatted, keyed by their content and by Prettier's version and
    // options: an edited file is checked again, an unchanged one is not (20 s of CPU on a 2-core machine, then 1.5 s).
    const cache = join(ROOT, 'node_modules', '.cache', `prettier-check-${createHash('sha1').update(ROOT).digest('hex').slice(0, 8)}.json`);
    const r = await outcome('prettier/bin/prettier.cjs', [
      '--check',
      '.',
      '--log-level',
      'warn',
      '--cache',
      '--cache-strategy',
      'content',
      '--cache-location',
      cache,
    ]);
    expect(r.output.trim(), 'npx prettier --check . says (npm run format fixes it)').toBe('');
    expect(r.code).toBe(0);
  }, 180_000);
});
