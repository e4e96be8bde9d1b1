import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Posting } from '../../shared/contracts/posting';
import type { ActualView } from '../../shared/domain/views';

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

/** The local host over HTTP: the admin call, the /admin/local views, the /api routes. */
export class HostClient {
  constructor(
    readonly url: string,
    private readonly options: { functionKey?: string; secret?: string; timeoutMs?: number } = {},
  ) {}

  private async call<T>(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer<T>> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(this.options.functionKey ? { 'x-functions-key': this.options.functionKey } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as T };
  }

  /** 'up' when a local host answers, 'down' when nothing listens, else the status that something else answered. */
  async probe(): Promise<'up' | 'down' | number> {
    try {
      const r = await fetch(`${this.url}/admin/host/status`, {
        headers: this.options.functionKey ? { 'x-functions-key': this.options.functionKey } : {},
        signal: AbortSignal.timeout(3000),
      });
      await r.arrayBuffer();
      return r.ok ? 'up' : r.status;
    } catch {
      return 'down';
    }
  }

  /** POST /admin/functions/{name} {"input": "<message text>"}: 202 when accepted. */
  admin(functionName: string, input: string): Promise<Answer> {
    return this.call('POST', `/admin/functions/${encodeURIComponent(functionName)}`, JSON.stringify({ input }));
  }

  async local<T>(what: 'queues' | 'dead-letters' | 'outbound' | 'quarantine'): Promise<T> {
    const r = await this.call<T>('GET', `/admin/local/${what}`);
    if (r.status !== 200) throw new Error(`GET /admin/local/${what} answered ${r.status}`);
    return r.body;
  }

  proposal(legalEntity: string, proposalId: string): Promise<Answer> {
    return this.call('GET', `/api/invoice-proposals/${encodeURIComponent(legalEntity)}/${encodeURIComponent(proposalId)}`);
  }

  actual(legalEntity: string, actualId: string): Promise<Answer<ActualView>> {
    return this.call('GET', `/api/actuals/${encodeURIComponent(legalEntity)}/${encodeURIComponent(actualId)}`);
  }

  /** The posting callback, signed with Standard Webhooks as Finance's integration layer signs it. */
  posted(legalEntity: string, proposalId: string, posting: Posting): Promise<Answer<{ detail?: string }>> {
    if (!this.options.secret) throw new Error('POSTING_WEBHOOK_SECRET is not configured: cannot sign the posting callback');
    const body = JSON.stringify(posting);
    const id = `msg_${randomUUID()}`;
    const at = new Date();
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(this.options.secret).sign(id, at, body),
    };
    return this.call(
      'POST',
      `/api/invoice-proposals/${encodeURIComponent(legalEntity)}/${encodeURIComponent(proposalId)}/posted`,
      body,
      headers,
    );
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Polls `probe` until it returns something truthy, or gives up (undefined) after `timeoutMs`. */
export async function until<T>(timeoutMs: number, probe: () => Promise<T | undefined | false>, everyMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}
