import type { WrittenBack } from './dataverseRecords';
import { ADJUSTMENT_STATUS_ADJUSTED } from './dataverseRecords';
import { forPeople } from './money';
import type { BilledActual, ProjectInvoice } from './nativeMonthEnd';

/** One posted actual: what Finance posted for it, and what its msdyn_actual row says now. */
export interface PostedActual {
  readonly invoice: ProjectInvoice;
  readonly actual: BilledActual;
  readonly adjusted: boolean;
  readonly landed: WrittenBack;
}

/** The differences for one actual, empty when the row carries exactly what was posted. */
export function writeBackDifferences(p: PostedActual): string[] {
  const { invoice, actual, landed } = p;
  const out: string[] = [];
  const name = `actual ${actual.id} (${invoice.number})`;
  if (landed.voucher !== invoice.voucher)
    out.push(`${name}: msdyn_externalreferenceid is ${landed.voucher ?? 'empty'}, posted ${invoice.voucher}`);
  for (const [column, value] of [
    ['msdyn_accountingdate', landed.accountingDate],
    ['msdyn_externalreferencedate', landed.externalReferenceDate],
  ] as const) {
    // Date Only, User Local: the Web API hands back the instant written; its UTC date is the accounting date.
    if (value?.slice(0, 10) !== invoice.invoiceDate) out.push(`${name}: ${column} is ${value ?? 'empty'}, posted ${invoice.invoiceDate}`);
  }
  if (p.adjusted && landed.adjustment !== ADJUSTMENT_STATUS_ADJUSTED)
    out.push(`${name}: msdyn_adjustmentstatus is ${landed.adjustment ?? 'empty'}, Project Operations set it to Adjusted`);
  return out;
}

const pad = (s: string, n: number) => s.padEnd(n);
const padLeft = (s: string, n: number) => s.padStart(n);

/** Per actual: what was posted, next to what landed back in Dataverse. */
export function writeBackTable(actuals: readonly PostedActual[]): string[] {
  const head = [
    '',
    'msdyn_actualid',
    'Invoice',
    'Amount',
    'Posted voucher',
    'Posted date',
    '→ msdyn_externalreferenceid',
    'msdyn_accountingdate',
    'Note',
  ];
  const rows = actuals.map((p) => [
    writeBackDifferences(p).length ? '✗' : '✓',
    p.actual.id,
    p.invoice.number,
    forPeople(p.actual.amount),
    p.invoice.voucher,
    p.invoice.invoiceDate,
    p.landed.voucher ?? '—',
    p.landed.accountingDate ?? '—',
    p.adjusted ? 'Adjusted (corrected later; keeps its voucher)' : p.invoice.corrects ? `correction of ${p.invoice.corrects.number}` : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 3 ? padLeft(c, widths[i]!) : pad(c, widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)];
}
