/**
 * `npm run lint` as part of `npm test`, so CI fails on a lint or format error:
 * ESLint (type-aware) and Prettier over the whole repository. It runs as a test
 * file so it runs beside the others instead of before them.
 */
import { execFile } from 'node:child_process';
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
    const r = await outcome('prettier/bin/prettier.cjs', ['--check', '.', '--log-level', 'warn']);
    expect(r.output.trim(), 'npx prettier --check . says (npm run format fixes it)').toBe('');
    expect(r.code).toBe(0);
  }, 180_000);
});
