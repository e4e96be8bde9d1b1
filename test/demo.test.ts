import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../host/azurite';
import { buildBatch, proposalIdOf } from '../scripts/demo/batch';
import { runDemo } from '../scripts/demo/run';
import { spawnHost, type HostProcess } from './support/hostProcess';
import { TEST_WEBHOOK_SECRET, testEnvironment } from './support/runtime';

const ROOT = join(__dirname, '..');
const TSX = createRequire(__filename).resolve('tsx/cli');

function demoProcess(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TSX, join(ROOT, 'scripts', 'demo.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('npm run demo (against a local host started by the test)', () => {
  let host: HostProcess;
  beforeAll(async () => {
    // The schedule never fires during the test and the fast path is off: only the demo's admin call imports.
    host = await spawnHost(testEnvironment({ IMPORT_SCHEDULE: '0 0 0 1 1 *', IMPORT_FAST_PATH: 'false', LOCAL_REDELIVERY_DELAY_MS: '50' }));
  });
  afterAll(async () => {
    await host?.kill();
  });

  it('sends the batch, imports, posts, reconciles, and exits 0 with every proposal in the table at its expected status', async () => {
    const runId = 'T1';
    const { code, output } = await demoProcess(['--url', host.url, '--run', runId], { POSTING_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET });
    expect(output).toContain('✓ PASS');
    expect(code).toBe(0);
    const batch = buildBatch(runId);
    expect(batch.invoices.length).toBeGreaterThanOrEqual(20);
    for (const inv of batch.invoices) {
      const { legalEntity, currency, proposalId } = inv.header;
      const row = new RegExp(
        `^✓\\s+${escape(proposalId)}\\s+${legalEntity}\\s+${currency}\\s+\\S+\\s+${inv.expected.status}\\s+${inv.expected.lineCount}\\s`,
        'm',
      );
      expect(output, `row of ${proposalId}`).toMatch(row);
    }
    expect(output).toMatch(new RegExp(`${escape(proposalIdOf(runId, 21))} .*waiting for billed sales actuals: 3 of 4 staged`));
    expect(output).toMatch(new RegExp(`${escape(proposalIdOf(runId, 22))} .*amount mismatch`));
  });

  it('exits non-zero and lists the differences when the outcome is not what the batch implies (the import never runs)', async () => {
    const lines: string[] = [];
    const result = await runDemo({
      url: host.url,
      skipImport: true,
      settleTimeoutMs: 1000,
      runId: 'T2',
      env: { ...process.env, POSTING_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
      print: (l) => lines.push(l),
    });
    const output = lines.join('\n');
    expect(result.exitCode).toBe(1);
    expect(result.differences).toContain(
      `${proposalIdOf('T2', 1)}: status AwaitingLines with 0 lines (waiting for billed sales actuals: 0 of 1 staged), expected Posted with 1`,
    );
    expect(result.differences).toContain(
      `${proposalIdOf('T2', 22)}: status AwaitingLines with 0 lines (waiting for billed sales actuals: 0 of 5 staged), expected Error with 0`,
    );
    expect(result.rows.filter((r) => r.ok)).toEqual([]); // even the incomplete one: 0 of 4 staged, not 3 of 4
    expect(result.differences).toContain(
      `${proposalIdOf('T2', 21)}: reason "waiting for billed sales actuals: 0 of 4 staged" does not mention "3 of 4 staged"`,
    );
    expect(output).toContain(`✗ FAIL: ${result.differences.length} differences between the batch and the outcome`);
    expect(output).toMatch(new RegExp(`^✗\\s+${escape(proposalIdOf('T2', 1))}\\s+usmf\\s+USD\\s+\\S+\\s+AwaitingLines`, 'm'));
  });
});

describe('npm run demo:dataverse (starts the Dataverse stand-in and a local host with the write-back on)', () => {
  it('drives the month-end from native messages, corrects one invoice, and shows per actual the voucher and date that landed in Dataverse', async () => {
    const port = await freePort();
    const env = testEnvironment({
      IMPORT_SCHEDULE: '0 0 0 1 1 *',
      LOCAL_REDELIVERY_DELAY_MS: '50',
      POSTING_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    });
    const { code, output } = await demoProcess(['--dataverse', '--url', `http://localhost:${port}`, '--run', 'N1'], env);
    expect(output).toContain('✓ PASS: 8 posted actuals');
    expect(code).toBe(0);
    // Each posted actual: its voucher and date as posted, then the same read back from msdyn_actual.
    const landed = [
      ...output.matchAll(/^✓\s+([0-9a-f-]{36})\s+(INV-N1-0\d)\s+(-?[\d,]+\.\d\d)\s+(VOU-N1-0\d)\s+(\S+)\s+\4\s+\5T12:00:00Z/gm),
    ];
    expect(landed.map((m) => m[2])).toEqual([
      'INV-N1-01',
      'INV-N1-01',
      'INV-N1-01',
      'INV-N1-02',
      'INV-N1-02',
      'INV-N1-03',
      'INV-N1-04',
      'INV-N1-04',
    ]);
    expect(landed.map((m) => m[4])).toEqual(landed.map((m) => m[2]!.replace('INV', 'VOU')));
    expect(output).toMatch(/^✓\s+\S+\s+INV-N1-01\s+600\.00\s+VOU-N1-01 .*Adjusted/m);
    expect(output).toMatch(/^✓\s+\S+\s+INV-N1-04\s+-600\.00\s+VOU-N1-04\s+2026-12-05 /m);
    expect(output).toContain('INV-N1-04 (CreditNote, -200.00 USD)');
    expect(output).toMatch(
      /the write-back made (\d+) Web API requests, \1 of them \$batch, carrying 8 PATCH msdyn_actuals \(all If-Match: \*\)/,
    );
  });
});
