import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Posting } from '../../shared/contracts/posting';
import { TEST_WEBHOOK_SECRET } from './runtime';

/** Signs a posting body the way Finance's integration layer must (Standard Webhooks). */
export function signedHeaders(body: string, opts: { secret?: string; id?: string; at?: Date } = {}): Record<string, string> {
  const id = opts.id ?? `msg_${randomUUID()}`;
  const at = opts.at ?? new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(opts.secret ?? TEST_WEBHOOK_SECRET).sign(id, at, body),
  };
}

export function postingFor(actualIds: readonly { actualId: string; amount: string }[], overrides: Partial<Posting> = {}): Posting {
  return {
    customerInvoiceId: 'CIV-000777',
    voucher: 'VOU-000555',
    accountingDate: '2026-11-21',
    accountingCurrency: 'USD',
    exchangeRate: '1',
    lines: actualIds.map((a) => ({ actualId: a.actualId, accountingAmount: a.amount, salesTaxAmount: '0.00' })),
    ...overrides,
  };
}
