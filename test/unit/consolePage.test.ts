import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConsolePage, consoleResponse } from '../../shared/http/consolePage';

const CONSOLE = join(__dirname, '..', '..', 'console');
const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

describe('the operations console page (console/, served by getConsole)', () => {
  it('is one document: the script and the stylesheet inline, exactly as they are in the repository', () => {
    const { html } = buildConsolePage(CONSOLE);
    const script = /<script type="module">([\s\S]*)<\/script>/.exec(html)?.[1];
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
    expect(script).toBe(readFileSync(join(CONSOLE, 'console.js'), 'utf8'));
    expect(style).toBe(readFileSync(join(CONSOLE, 'console.css'), 'utf8'));
    expect(html).not.toMatch(/src="console\.js"|href="console\.css"/);
  });

  it('lets only those two inline blocks run, and talks only to its own app (Content-Security-Policy)', () => {
    const { html, contentSecurityPolicy: csp } = buildConsolePage(CONSOLE);
    const script = /<script type="module">([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('is answered as HTML that no cache keeps and no referrer carries on (its address holds the function key)', () => {
    const response = consoleResponse();
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    expect(String(response.body)).toMatch(/^<!doctype html>/);
  });

  it('puts data into the page only as text: the script never writes HTML', () => {
    const js = readFileSync(join(CONSOLE, 'console.js'), 'utf8');
    expect(js.match(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/g)).toBeNull();
  });
});
