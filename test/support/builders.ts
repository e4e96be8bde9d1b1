import { InvocationContext, HttpRequest } from '@azure/functions';
import type { Actual } from '../../shared/contracts/actual';
import type { ConfirmedInvoice } from '../../shared/contracts/invoiceProposal';
import { formatMoney, parseMoney, sumMoney } from '../../shared/contracts/money';
import type { ServiceBusFunction } from '../../shared/hosting/definition';

export const GUID = (n: number, tag = 'a') => `${tag.padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${n.toString().padStart(12, '0')}`;

export function invoice(overrides: Partial<ConfirmedInvoice> = {}): ConfirmedInvoice {
  const base: ConfirmedInvoice = {
    invoiceId: GUID(1, 'inv'),
    proposalId: 'PINV-000001',
    legalEntity: 'usmf',
    contractId: 'PC-0001',
    customerAccount: 'US-001',
    currency: 'USD',
    invoiceDate: '2026-11-20',
    description: 'November time and expenses',
    detailAmount: '0.00',
    totalTax: '0.00',
    totalAmount: '0.00',
    transactionCount: 1, // a confirmed invoice bills at least one actual
    status: 'Confirmed',
    version: 1,
  };
  return { ...base, ...overrides };
}

export function actual(overrides: Partial<Actual> = {}): Actual {
  const base: Actual = {
    actualId: GUID(1, 'act'),
    legalEntity: 'usmf',
    transactionType: 'BilledSales',
    transactionClassification: 'Time',
    billingType: 'Chargeable',
    invoiceId: GUID(1, 'inv'),
    proposalId: 'PINV-000001',
    projectId: 'PRJ-001',
    contractId: 'PC-0001',
    customerAccount: 'US-001',
    quantity: '2',
    price: '50.00',
    amount: '100.00',
    currency: 'USD',
    documentDate: '2026-11-01',
    version: 1,
  };
  return { ...base, ...overrides };
}

const PRICES = ['50.00', '75.25', '120.10', '99.99', '15.333333'];

/** A confirmed invoice and exactly the billed sales actuals it expects, amounts summing to its detail amount. */
export function proposalWithActuals(opts: {
  proposalId: string;
  lines: number;
  legalEntity?: string;
  currency?: string;
  tax?: string;
  seed?: number;
}) {
  const legalEntity = opts.legalEntity ?? 'usmf';
  const currency = opts.currency ?? 'USD';
  const invoiceId = GUID(opts.seed ?? hash(opts.proposalId), 'inv');
  const actuals: Actual[] = Array.from({ length: opts.lines }, (_, i) => {
    const quantity = String((i % 8) + 1);
    const price = PRICES[i % PRICES.length]!;
    const amount = formatMoney((parseMoney(price) * BigInt(quantity)) as never, 2);
    return actual({
      actualId: `${opts.proposalId}-act-${i + 1}`,
      legalEntity,
      invoiceId,
      proposalId: opts.proposalId,
      currency,
      quantity,
      price,
      amount,
      transactionClassification: i % 3 === 0 ? 'Expense' : 'Time',
      documentDate: `2026-11-${String((i % 28) + 1).padStart(2, '0')}`,
    });
  });
  const detail = formatMoney(sumMoney(actuals.map((a) => a.amount)));
  const tax = opts.tax ?? '0.00';
  const header = invoice({
    invoiceId,
    proposalId: opts.proposalId,
    legalEntity,
    currency,
    detailAmount: detail,
    totalTax: tax,
    totalAmount: formatMoney(sumMoney([detail, tax])),
    transactionCount: opts.lines,
  });
  return { invoice: header, actuals };
}

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 1_000_000;
}

let messageSeq = 0;
export function serviceBusContext(messageId = `msg-${++messageSeq}`, deliveryCount = 1): InvocationContext {
  return new InvocationContext({
    functionName: 'test',
    triggerMetadata: { messageId, deliveryCount, enqueuedTimeUtc: new Date().toISOString() },
    logHandler: () => {},
  });
}

/**
 * Delivers one message to a Service Bus function as the Functions host would: a function with
 * cardinality 'many' gets an array and its ids in `messageIdArray`, any other gets the message itself.
 */
export function deliverMessage(fn: ServiceBusFunction, body: unknown, messageId = `msg-${++messageSeq}`, deliveryCount = 1) {
  if (fn.cardinality !== 'many') return fn.handler(body, serviceBusContext(messageId, deliveryCount));
  const context = new InvocationContext({
    functionName: fn.name,
    triggerMetadata: { messageIdArray: [messageId], deliveryCountArray: [deliveryCount], enqueuedTimeUtcArray: [new Date().toISOString()] },
    logHandler: () => {},
  });
  return fn.handler([body], context);
}

export function httpRequest(init: {
  method: string;
  url: string;
  params?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
}): HttpRequest {
  return new HttpRequest({
    method: init.method,
    url: init.url,
    params: init.params ?? {},
    headers: init.headers ?? {},
    ...(init.body !== undefined ? { body: { string: init.body } } : {}),
  });
}
