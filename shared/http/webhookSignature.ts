import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

export type Verification = { ok: true; webhookId: string } | { ok: false; field: string; detail: string };

/** The secrets in POSTING_WEBHOOK_SECRET: several, space-separated, while one is rotated out. */
export function postingSecrets(setting: string | undefined): string[] {
  return (setting ?? '').split(/\s+/).filter(Boolean);
}

/**
 * Standard Webhooks verification (HMAC-SHA256 over id.timestamp.body, ±5
 * minutes) with the `standardwebhooks` library. Any configured secret may have
 * signed it. Runs on the raw body, before anything is parsed or stored.
 */
export function verifySignature(secrets: readonly string[], headers: { get(name: string): string | null }, rawBody: string): Verification {
  const values: Record<string, string> = {};
  for (const name of SIGNATURE_HEADERS) {
    const value = headers.get(name);
    if (!value)
      return { ok: false, field: name, detail: `${name}: header is missing; posting callbacks must be signed (Standard Webhooks)` };
    values[name] = value;
  }
  if (!secrets.length)
    return {
      ok: false,
      field: 'webhook-signature',
      detail: 'webhook-signature: no signing secret is configured, so no posting can be verified',
    };
  let lastReason = 'signature does not match';
  for (const secret of secrets) {
    try {
      // jsonParse off: the library would JSON.parse a correctly signed body itself and throw a SyntaxError
      // (a 500) for one that is not JSON; parsing is the caller's job, with a 400 that names the body.
      new Webhook(secret).verify(rawBody, values, { jsonParse: false });
      return { ok: true, webhookId: values['webhook-id']! };
    } catch (e) {
      if (!(e instanceof WebhookVerificationError)) throw e;
      lastReason = e.message;
    }
  }
  const field = /timestamp/i.test(lastReason) ? 'webhook-timestamp' : 'webhook-signature';
  return { ok: false, field, detail: `${field}: ${lastReason.replace(/^Message /, '').toLowerCase()}` };
}
