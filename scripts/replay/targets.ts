import type { Target } from '../../shared/operations/resubmit';
import { functionForQueue } from '../../shared/operations/retryable';

export class TargetUnavailable extends Error {
  override name = 'TargetUnavailable';
}

/** The local host's admin call: `POST {url}/admin/functions/{function}` {"input": body}, durable once it answers 202. */
export class LocalHostTarget implements Target {
  readonly name: string;
  constructor(
    private readonly url: string,
    private readonly functionKey: string | undefined,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.url = url.replace(/\/+$/, '');
    this.name = `local host ${this.url}`;
  }

  private headers(): Record<string, string> {
    return { 'content-type': 'application/json', ...(this.functionKey ? { 'x-functions-key': this.functionKey } : {}) };
  }

  async check(): Promise<void> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.url}/admin/host/status`, { headers: this.headers(), signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new TargetUnavailable(
        `no local host answers at ${this.url} (${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}): start it with \`npm start\`, pass --url, or send to Service Bus with --to servicebus`,
      );
    }
    if (res.status === 401) throw new TargetUnavailable(`the local host at ${this.url} wants a function key: set LOCAL_FUNCTION_KEY`);
    if (!res.ok) throw new TargetUnavailable(`the local host at ${this.url} answered ${res.status} to GET /admin/host/status`);
  }

  async send(queue: string, body: string): Promise<string> {
    const fn = functionForQueue(queue);
    if (!fn) throw new Error(`no function reads queue ${queue}`);
    const res = await this.fetchImpl(`${this.url}/admin/functions/${fn}`, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ input: body }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== 202) {
      let detail = text;
      try {
        detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
      } catch {
        /* not problem+json */
      }
      throw new Error(`the local host refused POST /admin/functions/${fn}: ${res.status} ${detail}`.trim());
    }
    let messageId: string | undefined;
    try {
      messageId = (JSON.parse(text) as { messageId?: string }).messageId;
    } catch {
      /* 202 without a body */
    }
    return `${this.name} → ${fn}${messageId ? `, message ${messageId}` : ''}`;
  }
}
