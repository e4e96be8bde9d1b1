import { createHash } from 'node:crypto';
import type { Actual } from '../../shared/contracts/actual';
import type { ConfirmedInvoice } from '../../shared/contracts/invoiceProposal';
import type { Posting } from '../../shared/contracts/posting';
import { formatMoney, sumMoney } from '../../shared/contracts/money';
import { timesExact, timesToCents } from './money';
import { seededRandom } from '../seededRandom';

/**
 * The demo's batch: what Dataverse would send after a month-end billing run in
 * two legal entities, and what the integration must make of it. Amounts are
 * the same on every run (a fixed seed); only the run id in the ids changes, so
 * a re-run against the same host is a fresh batch.
 */

export type ExpectedStatus = 'Posted' | 'AwaitingLines' | 'Error';
type Classification = 'Time' | 'Expense' | 'Material' | 'Fee';

export interface DemoInvoice {
  /** The confirmed pro forma invoice as sent. */
  header: ConfirmedInvoice;
  /** Every billed sales actual the confirmation created (the intended amounts). */
  actuals: Actual[];
  /** The billed sales actuals actually sent (one may be missing or carry a different amount). */
  sent: Actual[];
  /** Sales tax per actual id, in the invoice currency; totalTax is their sum. */
  tax: ReadonlyMap<string, string>;
  accountingCurrency: string;
  exchangeRate: string;
  customerInvoiceId: string;
  voucher: string;
  expected: { status: ExpectedStatus; lineCount: number; reasonIncludes: string[] };
  /** What this invoice demonstrates, for the progress lines. */
  scenario: 'complete' | 'incomplete' | 'mismatch';
}

export interface DemoMessage {
  functionName: 'syncInvoiceProposal' | 'syncActuals';
  /** 1: actuals that arrive before their header; 2: headers; 3: the rest, duplicates, costs. */
  phase: 1 | 2 | 3;
  body: Record<string, unknown>;
}

export interface DemoBatch {
  runId: string;
  invoices: DemoInvoice[];
  /** Non-billed actuals (Cost): registered, never proposal lines. */
  costActuals: Actual[];
  messages: DemoMessage[];
  stats: {
    headers: number;
    billedActuals: number;
    duplicates: number;
    beforeHeader: number;
    optionSetCodes: number;
    costActuals: number;
    neverSent: number;
  };
}

export const RUN_ID = /^[A-Z0-9]{1,11}$/;

/** (legal entity, currency, billed lines) per invoice; the last two are the incomplete and the mismatched one. */
const PLAN: readonly [string, string, number][] = [
  ['usmf', 'USD', 1],
  ['demf', 'EUR', 3],
  ['usmf', 'USD', 7],
  ['usmf', 'EUR', 12],
  ['demf', 'EUR', 2],
  ['demf', 'USD', 15],
  ['usmf', 'USD', 5],
  ['demf', 'EUR', 4],
  ['usmf', 'USD', 9],
  ['demf', 'EUR', 1],
  ['usmf', 'EUR', 6],
  ['demf', 'USD', 11],
  ['usmf', 'USD', 3],
  ['demf', 'EUR', 8],
  ['usmf', 'USD', 14],
  ['demf', 'EUR', 2],
  ['usmf', 'EUR', 10],
  ['demf', 'USD', 5],
  ['usmf', 'USD', 7],
  ['demf', 'EUR', 13],
  ['usmf', 'USD', 4], // incomplete: one actual is never sent
  ['demf', 'EUR', 5], // mismatch: one actual's amount differs from what detailAmount implies
];
const INCOMPLETE = 21;
const MISMATCH = 22;

const CUSTOMERS: Record<string, { account: string; contract: string; project: string; work: string }[]> = {
  usmf: [
    { account: 'US-001', contract: 'PSC-000117', project: 'USPR-000042', work: 'ERP rollout, phase 2' },
    { account: 'US-004', contract: 'PSC-000121', project: 'USPR-000051', work: 'Warehouse automation' },
    { account: 'US-007', contract: 'PSC-000133', project: 'USPR-000063', work: 'Data platform migration' },
    { account: 'US-011', contract: 'PSC-000140', project: 'USPR-000070', work: 'Retail POS upgrade' },
    { account: 'US-014', contract: 'PSC-000152', project: 'USPR-000078', work: 'Field service pilot' },
  ],
  demf: [
    { account: 'DE-002', contract: 'VTR-000031', project: 'DEPR-000019', work: 'SAP-Ablösung, Welle 1' },
    { account: 'DE-005', contract: 'VTR-000036', project: 'DEPR-000024', work: 'Produktionsplanung' },
    { account: 'DE-009', contract: 'VTR-000044', project: 'DEPR-000030', work: 'Lagerverwaltung' },
    { account: 'DE-013', contract: 'VTR-000047', project: 'DEPR-000035', work: 'Finanzberichtswesen' },
  ],
};

const RATES: Record<string, string[]> = {
  USD: ['145.00', '160.00', '185.00', '210.00', '95.00'],
  EUR: ['130.00', '150.00', '175.00', '190.00', '88.00'],
};
const TIME_CATEGORIES = ['Consulting', 'Development', 'Project Management', 'Solution Architecture'];
const EXPENSE_CATEGORIES = ['Travel', 'Hotel', 'Meals', 'Mileage'];
const MATERIAL_CATEGORIES = ['Hardware', 'Licenses', 'Spare parts'];
const FEE_CATEGORIES = ['Setup fee', 'Milestone fee', 'Support fee'];
const FEES = ['750.00', '1500.00', '2500.00', '4000.00'];

/** Sales tax: 19 % VAT on everything in demf; 8.25 % US sales tax on material on every other usmf invoice. */
function taxRate(legalEntity: string, n: number, c: Classification): string {
  if (legalEntity === 'demf') return '0.19';
  return n % 2 === 1 && c === 'Material' ? '0.0825' : '0';
}

const ACCOUNTING_CURRENCY: Record<string, string> = { usmf: 'USD', demf: 'EUR' };
const EXCHANGE_RATE: Record<string, string> = { 'usmf|EUR': '1.0825', 'demf|USD': '0.9238' };

const TYPE_CODE = { BilledSales: 192350006, Cost: 192350000 } as const;
const CLASSIFICATION_CODE: Record<Classification, number> = { Time: 192350000, Expense: 192350001, Material: 192350002, Fee: 192350004 };
const BILLING_CODE = { Chargeable: 192350001 } as const;

const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const between = (rng: () => number, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const cents = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
const pad3 = (n: number) => String(n).padStart(3, '0');

/** A GUID-shaped id derived from the run, like Dataverse's, but reproducible for a given run id. */
export function demoGuid(runId: string, ...parts: (string | number)[]): string {
  const h = createHash('sha256')
    .update([runId, ...parts].join('|'))
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const proposalIdOf = (runId: string, n: number) => `PINV-${runId}-${pad3(n)}`;

function line(
  rng: () => number,
  j: number,
  currency: string,
): { c: Classification; quantity: string; price: string; category: string; unit: string; resourceId?: string } {
  const roll = j === 0 ? 0 : rng();
  if (roll < 0.5) {
    const quarters = between(rng, 4, 160); // 1 to 40 hours in quarter hours
    const quantity = `${Math.floor(quarters / 4)}${['', '.25', '.5', '.75'][quarters % 4]}`;
    return {
      c: 'Time',
      quantity,
      price: pick(rng, RATES[currency]!),
      category: pick(rng, TIME_CATEGORIES),
      unit: 'Hour',
      resourceId: `EMP-${String(between(rng, 1, 60)).padStart(4, '0')}`,
    };
  }
  if (roll < 0.72)
    return {
      c: 'Expense',
      quantity: String(between(rng, 1, 3)),
      price: cents(between(rng, 1500, 48000)),
      category: pick(rng, EXPENSE_CATEGORIES),
      unit: 'Each',
    };
  if (roll < 0.9)
    return {
      c: 'Material',
      quantity: String(between(rng, 1, 20)),
      price: cents(between(rng, 250, 95000)),
      category: pick(rng, MATERIAL_CATEGORIES),
      unit: 'Each',
    };
  return { c: 'Fee', quantity: '1', price: pick(rng, FEES), category: pick(rng, FEE_CATEGORIES), unit: 'Each' };
}

/** The actual as it travels: some with Dataverse option-set codes instead of the names. */
function onTheWire(a: Actual, codes: boolean): Record<string, unknown> {
  if (!codes) return { ...a };
  return {
    ...a,
    transactionType: TYPE_CODE[a.transactionType as keyof typeof TYPE_CODE],
    transactionClassification: CLASSIFICATION_CODE[a.transactionClassification as Classification],
    billingType: BILLING_CODE[a.billingType as keyof typeof BILLING_CODE],
  };
}

export function buildBatch(runId: string): DemoBatch {
  if (!RUN_ID.test(runId)) throw new RangeError(`run id ${JSON.stringify(runId)}: must be 1 to 11 capital letters or digits`);
  const invoices: DemoInvoice[] = [];
  const early: DemoMessage[] = [];
  const headers: DemoMessage[] = [];
  const late: DemoMessage[] = [];
  const stats = { headers: 0, billedActuals: 0, duplicates: 0, beforeHeader: 0, optionSetCodes: 0, costActuals: 0, neverSent: 0 };
  const used = { USD: 0, EUR: 0 } as Record<string, number>;

  PLAN.forEach(([legalEntity, currency, count], index) => {
    const n = index + 1;
    const rng = seededRandom(1000 + n);
    const proposalId = proposalIdOf(runId, n);
    const invoiceId = demoGuid(runId, 'invoice', n);
    const customers = CUSTOMERS[legalEntity]!;
    const customer = customers[(used[legalEntity] = (used[legalEntity] ?? 0) + 1) % customers.length]!;
    const tax = new Map<string, string>();

    const actuals: Actual[] = Array.from({ length: count }, (_, j) => {
      const l = line(rng, j, currency);
      const actualId = demoGuid(runId, 'actual', n, j + 1);
      const amount = timesExact(l.quantity, l.price);
      tax.set(actualId, timesToCents(amount, taxRate(legalEntity, n, l.c)));
      return {
        actualId,
        legalEntity,
        transactionType: 'BilledSales',
        transactionClassification: l.c,
        billingType: 'Chargeable',
        invoiceId,
        proposalId,
        projectId: customer.project,
        contractId: customer.contract,
        customerAccount: customer.account,
        taskId: `${customer.project}-T${between(rng, 1, 9)}`,
        contractLineId: `${customer.contract}-${l.c === 'Fee' ? 'FIX' : 'TM'}`,
        ...(l.resourceId ? { resourceId: l.resourceId } : {}),
        transactionCategory: l.category,
        unit: l.unit,
        quantity: l.quantity,
        price: l.price,
        amount,
        currency,
        documentDate: `2026-11-${String(between(rng, 2, 27)).padStart(2, '0')}`,
        version: 1,
      } satisfies Actual;
    });

    const detailAmount = formatMoney(sumMoney(actuals.map((a) => a.amount)));
    const totalTax = formatMoney(sumMoney(tax.values()));
    const header: ConfirmedInvoice = {
      invoiceId,
      proposalId,
      legalEntity,
      contractId: customer.contract,
      customerAccount: customer.account,
      currency,
      invoiceDate: '2026-11-30',
      description: `${customer.work}: November 2026 (${count} billed transaction${count === 1 ? '' : 's'})`,
      detailAmount,
      totalTax,
      totalAmount: formatMoney(sumMoney([detailAmount, totalTax])),
      transactionCount: count,
      status: 'Confirmed',
      version: 1,
    };

    let sent = actuals;
    let scenario: DemoInvoice['scenario'] = 'complete';
    let expected: DemoInvoice['expected'] = { status: 'Posted', lineCount: count, reasonIncludes: [] };
    if (n === INCOMPLETE) {
      scenario = 'incomplete';
      sent = actuals.filter((_, j) => j !== 2); // the third actual never reaches the integration
      stats.neverSent++;
      expected = { status: 'AwaitingLines', lineCount: 0, reasonIncludes: [`${count - 1} of ${count} staged`] };
    }
    if (n === MISMATCH) {
      scenario = 'mismatch';
      // The second actual was re-priced in Dataverse after the invoice was confirmed.
      sent = actuals.map((a, j) => {
        if (j !== 1) return a;
        const price = formatMoney(sumMoney([a.price!, '10.00']));
        return { ...a, price, amount: timesExact(a.quantity!, price) };
      });
      const sentSum = formatMoney(sumMoney(sent.map((a) => a.amount)));
      expected = { status: 'Error', lineCount: 0, reasonIncludes: ['amount mismatch', sentSum, detailAmount] };
    }

    invoices.push({
      header,
      actuals,
      sent,
      tax,
      accountingCurrency: ACCOUNTING_CURRENCY[legalEntity]!,
      exchangeRate: EXCHANGE_RATE[`${legalEntity}|${currency}`] ?? '1',
      customerInvoiceId: `CIV-${runId}-${pad3(n)}`,
      voucher: `VOU-${runId}-${pad3(n)}`,
      expected,
      scenario,
    });

    headers.push({ functionName: 'syncInvoiceProposal', phase: 2, body: { ...header } });
    stats.headers++;
    if (n % 5 === 0) {
      headers.push({ functionName: 'syncInvoiceProposal', phase: 2, body: { ...header } }); // delivered twice
      stats.duplicates++;
    }
    const beforeHeader = n % 3 === 2 || n === MISMATCH;
    sent.forEach((a, j) => {
      const codes = (n + j) % 3 === 0;
      if (codes) stats.optionSetCodes++;
      (beforeHeader ? early : late).push({ functionName: 'syncActuals', phase: beforeHeader ? 1 : 3, body: onTheWire(a, codes) });
      if (beforeHeader) stats.beforeHeader++;
      stats.billedActuals++;
      if ((n * 7 + j) % 6 === 0) {
        // Sent again, and spelled the other way (codes vs names): still the same actual.
        late.push({ functionName: 'syncActuals', phase: 3, body: onTheWire(a, !codes) });
        stats.duplicates++;
      }
    });
  });

  const costActuals: Actual[] = [3, 6, 14, 19].map((n) => {
    const inv = invoices[n - 1]!;
    const time = inv.actuals.find((a) => a.transactionClassification === 'Time') ?? inv.actuals[0]!;
    const costPrice = inv.header.currency === 'USD' ? '82.50' : '71.00';
    return {
      actualId: demoGuid(runId, 'cost', n),
      legalEntity: inv.header.legalEntity,
      transactionType: 'Cost',
      transactionClassification: 'Time',
      billingType: 'Chargeable',
      projectId: time.projectId,
      contractId: time.contractId,
      customerAccount: time.customerAccount,
      ...(time.resourceId ? { resourceId: time.resourceId } : {}),
      transactionCategory: time.transactionCategory!,
      unit: 'Hour',
      quantity: time.quantity!,
      price: costPrice,
      amount: timesToCents(time.quantity!, costPrice),
      currency: inv.header.currency,
      documentDate: time.documentDate,
      version: 1,
    } satisfies Actual;
  });
  costActuals.forEach((a, k) => late.push({ functionName: 'syncActuals', phase: 3, body: onTheWire(a, k === 0) }));
  stats.costActuals = costActuals.length;

  return { runId, invoices, costActuals, messages: [...early, ...headers, ...late], stats };
}

/** The posting callback Finance sends for a proposal's lines (accounting amounts converted to the company currency). */
export function postingFor(inv: DemoInvoice, lines: readonly { actualId: string; amount: string }[]): Posting {
  return {
    customerInvoiceId: inv.customerInvoiceId,
    voucher: inv.voucher,
    accountingDate: inv.header.invoiceDate,
    accountingCurrency: inv.accountingCurrency,
    exchangeRate: inv.exchangeRate,
    lines: lines.map((l) => ({
      actualId: l.actualId,
      accountingAmount: timesToCents(l.amount, inv.exchangeRate),
      salesTaxAmount: timesToCents(inv.tax.get(l.actualId) ?? '0', inv.exchangeRate),
    })),
  };
}
