import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HttpResponseInit } from '@azure/functions';

/**
 * The operations console (console/ at the app's root: one HTML page, its script
 * and its style, no build step). The page is sent as one document with the
 * script and style inline, so the function key in its address (?code=) is
 * needed once and no other route has to serve files; a Content-Security-Policy
 * lets exactly those two inline blocks run and the page talk only to this app.
 */

/** The folder holds console.html; from the sources (shared/http) and from the build (dist/shared/http) it is a different climb. */
function consoleFolder(): string {
  for (let dir = __dirname, i = 0; i < 5; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'console', 'console.html'))) return join(dir, 'console');
  }
  throw new Error(`console/console.html not found above ${__dirname}: the package must ship the console folder`);
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export interface ConsolePage {
  html: string;
  contentSecurityPolicy: string;
}

/** The page as served: the stylesheet and the script module put in place of the tags that name them. */
export function buildConsolePage(folder = consoleFolder()): ConsolePage {
  const read = (name: string) => readFileSync(join(folder, name), 'utf8');
  const css = read('console.css');
  const js = read('console.js');
  const template = read('console.html');
  const styleTag = '<link rel="stylesheet" href="console.css" />';
  const scriptTag = '<script type="module" src="console.js"></script>';
  if (!template.includes(styleTag) || !template.includes(scriptTag)) throw new Error('console.html must name console.css and console.js');
  // A function as replacement: `$&` and friends in the script are text, not patterns.
  const html = template.replace(styleTag, () => `<style>${css}</style>`).replace(scriptTag, () => `<script type="module">${js}</script>`);
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(js)}`,
    `style-src ${sha256(css)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

let page: ConsolePage | undefined;

/** GET /api/console's answer. The files are read once per process: they change only with a deployment. */
export function consoleResponse(): HttpResponseInit {
  page ??= buildConsolePage();
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': page.contentSecurityPolicy,
      // The address carries the function key: never send it on as a referrer, never keep the page in a cache.
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body: page.html,
  };
}
