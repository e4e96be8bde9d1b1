/**
 * The operations console in a real browser: Debian's headless Chromium driven by
 * playwright-core, against the local host as `npm start` runs it, loaded with the
 * demo's month-end (scripts/demo) and one message dead-lettered the way it happens
 * in production: Dataverse did not answer while the message was delivered (the
 * Dataverse Web API stand-in is down), and answers again before the operator
 * retries it. No request is made outside the page: every step is a click.
 * Chromium missing is a failure, not a skip: README's set-up installs it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../host/azurite';
import { proposalIdOf } from '../scripts/demo/batch';
import { runDemo } from '../scripts/demo/run';
import { startDataverseSimulator, type DataverseSimulator } from './dataverse/simulator/server';
import { proposalWithActuals } from './support/builders';
import { strippedMessage } from './support/dataverseMessages';
import { adminCall, spawnHost, until, type HostProcess } from './support/hostProcess';
import { actualId, dataverseSeed } from './support/nativeScenario';
import { TEST_WEBHOOK_SECRET, testEnvironment } from './support/runtime';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(__dirname, '..');
/** Where the test leaves its screenshots (not committed; docs/images/console.png is one of them). */
const SHOTS = join(ROOT, 'screenshots');
const FUNCTION_KEY = 'console-test-function-key';
const OPERATOR_KEY = 'console-test-operator-key';
const RUN = 'UI1';
const ERROR_PROPOSAL = proposalIdOf(RUN, 22);
const DEAD_ACTUAL = actualId(2);
/** Sent while the import is paused. */
const late = proposalWithActuals({ proposalId: 'PINV-LATE-1', lines: 3 });

// A busy 2-core machine (npm test runs three files at once beside Azurite and the host) can take seconds per click.
describe('the operations console in headless Chromium (npm start, demo data)', { timeout: 150_000 }, () => {
  let host: HostProcess;
  let dataverse: DataverseSimulator | undefined;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const withKey = { 'x-functions-key': FUNCTION_KEY };

  beforeAll(async () => {
    // A failure, never a skip: the acceptance is this browser run.
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as README's set-up does`);
    const dataversePort = await freePort(); // nothing listens there yet: Dataverse is "down"
    // Both at once, and whichever started is stopped by afterAll even when the other failed.
    const [started, launched] = await Promise.allSettled([
      spawnHost(
        testEnvironment({
          LOCAL_FUNCTION_KEY: FUNCTION_KEY,
          OPS_OPERATOR_KEY: OPERATOR_KEY,
          IMPORT_SCHEDULE: '0 0 0 1 1 *', // only the demo and the operator run the import
          LOCAL_REDELIVERY_DELAY_MS: '50',
          LOCAL_MAX_DELIVERY_COUNT: '2',
          DATAVERSE_URL: `http://127.0.0.1:${dataversePort}`,
        }),
        { entry: 'npm-start' },
      ),
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    ]);
    if (started.status === 'fulfilled') host = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const r of [started, launched]) if (r.status === 'rejected') throw r.reason;

    // A stripped actual must be read from Dataverse; with Dataverse down every delivery fails, and the second dead-letters it.
    expect((await adminCall(host.url, 'syncActuals', strippedMessage('msdyn_actual', DEAD_ACTUAL, 'Create'), withKey)).status).toBe(202);
    const demo = await runDemo({
      url: host.url,
      runId: RUN,
      env: { ...process.env, LOCAL_FUNCTION_KEY: FUNCTION_KEY, POSTING_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
      print: () => {},
    });
    expect(demo.differences).toEqual([]);
    await until(
      'the dead letter',
      async () => {
        const dead = (await (await fetch(`${host.url}/admin/local/dead-letters`, { headers: withKey })).json()) as unknown[];
        return dead.length === 1;
      },
      60_000,
    );
    // Dataverse is back before the operator retries.
    dataverse = await startDataverseSimulator({ seed: dataverseSeed(), port: dataversePort });

    mkdirSync(SHOTS, { recursive: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${host.url}/api/console?code=${FUNCTION_KEY}`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await host?.kill();
    await dataverse?.close();
  });

  const outcome = (p = page) => p.getByRole('status');
  /** Clicks the action, then the confirmation dialog's button, and waits for a new outcome that says `expected`. */
  async function confirmed(action: () => Promise<void>, confirm: string | RegExp, expected: RegExp, p = page) {
    const before = await outcome(p).textContent();
    await action();
    await p.getByRole('dialog').getByRole('button', { name: confirm }).click();
    return until(
      `the outcome ${expected}`,
      async () => {
        const text = (await outcome(p).textContent()) ?? '';
        return text !== before && expected.test(text) && text;
      },
      30_000,
    );
  }
  /** Refreshes (as the page does on its own every 10 s) until `seen`. */
  async function refreshUntil(what: string, seen: () => Promise<boolean>) {
    await until(
      what,
      async () => {
        await page.getByRole('button', { name: 'Refresh now' }).click();
        await page.waitForTimeout(300);
        return seen();
      },
      60_000,
    );
  }
  const showList = (name: RegExp, p = page) => p.getByRole('navigation', { name: 'Lists' }).getByRole('button', { name }).click();
  const list = (p = page) => p.locator('#list');
  async function signIn(p: Page, name: string) {
    await p.getByLabel('Your name').fill(name);
    await p.getByLabel('Operator key').fill(OPERATOR_KEY);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await outcome(p)
      .filter({ hasText: `signed in as ${name}` })
      .waitFor();
  }

  it('shows the counts per state at a glance, and fits 1280×800 without a sideways scroll', async () => {
    await page.getByText(/^Updated at/).waitFor();
    const chart = page.getByRole('img', { name: /Awaiting lines: \d+, Error: \d+, Lines created: \d+, Posted today: \d+/ });
    await chart.waitFor();
    // Awaiting lines may count, for a moment, proposals that have moved on since (the index catches up when read).
    expect(await page.locator('#chart-title').textContent()).toMatch(/Error: 1, Lines created: 0, Posted today: 20$/);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    await showList(/^Awaiting lines/);
    const waiting = list()
      .getByRole('row')
      .filter({ hasText: proposalIdOf(RUN, 21) });
    expect(await waiting.textContent()).toContain('waiting for billed sales actuals: 3 of 4 staged');
    // Once the list has been read, the count agrees with it (the state index drops entries its proposal has left).
    await refreshUntil('the count to agree with the list', async () =>
      /^Awaiting lines: 1, Error: 1, Lines created: 0, Posted today: 20$/.test((await page.locator('#chart-title').textContent()) ?? ''),
    );
    await page.screenshot({ path: join(SHOTS, 'console.png') });
  });

  it('can be used with the keyboard alone: Tab reaches every control, and the focused one is outlined', async () => {
    await page.locator('h1').click(); // start from the top
    const reached = new Set<string>();
    const unmarked: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const [name, outline] = await page.evaluate<[string, string]>(
        "document.activeElement === document.body ? ['', ''] : [document.activeElement.getAttribute('aria-label') || document.activeElement.textContent.trim() || document.activeElement.id, getComputedStyle(document.activeElement).outlineStyle]",
      );
      if (!name) break; // past the last control
      reached.add(name);
      if (outline === 'none') unmarked.push(name);
    }
    expect(unmarked).toEqual([]);
    expect([...reached]).toEqual(
      expect.arrayContaining(['Refresh now', 'op-name', 'op-key', 'Sign in', 'Error (1)', 'Audit', 'Run the import now']),
    );
    expect([...reached].filter((n) => n.startsWith(`PINV-${RUN}-`))).not.toEqual([]); // the proposals in the list open by keyboard too
  });

  it('opens the Error proposal from its list and reads its reason', async () => {
    await showList(/^Error/);
    await list().getByRole('button', { name: ERROR_PROPOSAL }).click();
    const detail = page.locator('#detail-panel');
    await detail.getByRole('heading', { name: `Proposal ${ERROR_PROPOSAL} (demf)` }).waitFor();
    expect(await detail.locator('.status').textContent()).toMatch(/^Error: amount mismatch: the 5 billed sales actuals sum to 21304\.87/);
    await page.screenshot({ path: join(SHOTS, 'console-error-proposal.png') });
  });

  it('retries a message dead-lettered while Dataverse (the Web API stand-in) was down, once; a second retry, from a page that still shows it, is refused and says why', async () => {
    // A second operator opened the dead letters before the first retried one, and their page holds still.
    const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    other.setDefaultTimeout(30_000);
    await other.goto(`${host.url}/api/console?code=${FUNCTION_KEY}`);
    await other.getByLabel('Refresh every 10 s').uncheck();
    await signIn(other, 'Bob Operator');
    await showList(/^Dead-lettered/, other);
    await list(other).getByRole('row').filter({ hasText: 'project-actuals' }).waitFor();

    await signIn(page, 'Ann Operator');
    await showList(/^Dead-lettered/);
    const row = list().getByRole('row').filter({ hasText: 'project-actuals' });
    await row.waitFor();
    const done = await confirmed(() => row.getByRole('button', { name: 'Retry' }).click(), 'Retry', /retried/);
    expect(done).toMatch(/^Done: .* retried/);
    const applied = await until(
      'the retried actual applied',
      async () => {
        const r = await fetch(`${host.url}/api/actuals/usmf/${DEAD_ACTUAL}`, { headers: withKey });
        return r.status === 200 && ((await r.json()) as { actualId: string });
      },
      60_000,
    );
    expect(applied.actualId).toBe(DEAD_ACTUAL);
    // A retried dead letter leaves the dead-letter list.
    await list().getByText('Nothing here.').waitFor();

    const refused = await confirmed(() => list(other).getByRole('button', { name: 'Retry' }).click(), 'Retry', /refused/, other);
    expect(refused).toMatch(/^Not done: .* refused: .*already retried at .* by Ann Operator/);
    await list(other).getByText('Nothing here.').waitFor(); // and the page refreshed after saying so
    await other.screenshot({ path: join(SHOTS, 'console-retry-refused.png') });
    await other.close();
  });

  it('pauses the import: actuals sent meanwhile wait (AwaitingLines); once resumed the import gives them their lines', async () => {
    const flows = page.locator('#flows');
    // Cancel in the confirmation changes nothing, and the page says so.
    await confirmed(() => flows.getByRole('button', { name: /^Pause .*import/i }).click(), 'Cancel', /cancelled, nothing was changed/);
    expect(await flows.getByRole('button', { name: /^Pause .*import/i }).count()).toBe(1);
    await confirmed(() => flows.getByRole('button', { name: /^Pause .*import/i }).click(), /^Pause/, /is paused\./);
    await flows.getByText(/Paused since .* by Ann Operator/).waitFor();
    // The host applies a switch within about a second of the pause (it polls them): until then the fast path
    // could still import, so the actuals go out once both of the flow's functions are off.
    for (const fn of ['importFromStaging', 'importProposal'])
      await until(`the host switched ${fn} off`, async () => host.output().includes(`${fn} information: switched off`), 10_000);

    await adminCall(host.url, 'syncInvoiceProposal', late.invoice, withKey);
    for (const a of late.actuals) await adminCall(host.url, 'syncActuals', a, withKey);
    await confirmed(
      () => page.getByRole('button', { name: 'Run the import now' }).click(),
      'Run the import',
      /^Not done: Run the import: .*paused/,
    );

    await showList(/^Awaiting lines/);
    await refreshUntil('the late proposal waiting', async () => (await list().getByRole('button', { name: 'PINV-LATE-1' }).count()) > 0);
    await page.screenshot({ path: join(SHOTS, 'console-paused.png') });

    await confirmed(() => flows.getByRole('button', { name: /^Resume .*import/i }).click(), /^Resume/, /running again/);
    await confirmed(() => page.getByRole('button', { name: 'Run the import now' }).click(), 'Run the import', /the import ran/);
    await showList(/^Lines created/);
    await refreshUntil('the late proposal with lines', async () => (await list().getByRole('button', { name: 'PINV-LATE-1' }).count()) > 0);
    await list().getByRole('button', { name: 'PINV-LATE-1' }).click();
    const detail = page.locator('#detail-panel');
    await detail.getByRole('heading', { name: 'Lines (3)' }).waitFor();
    for (const a of late.actuals) expect(await detail.getByRole('button', { name: a.actualId }).count()).toBe(1);

    await showList(/^Audit/);
    await list().getByText('Ann Operator').first().waitFor();
    expect(pageErrors).toEqual([]);
  });
});
