import { sumMoney, type Money } from '../../shared/contracts/money';
import { forPeople } from './money';

/** One row of the reconciliation table: what the integration says about one proposal. */
export interface ProposalRow {
  proposalId: string;
  legalEntity: string;
  currency: string;
  customer: string;
  status: string;
  lines: number;
  detailAmount: string;
  voucher: string | null;
  reason: string | null;
  /** The row agrees with the batch. */
  ok: boolean;
}

type Align = 'left' | 'right';

export function renderTable(columns: readonly { title: string; align?: Align }[], rows: readonly string[][]): string[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (text: string, i: number) => (columns[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => cell(c, i))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
}

const MAX_REASON = 90;
const shorten = (s: string) => (s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 1)}…` : s);

export function proposalTable(rows: readonly ProposalRow[]): string[] {
  return renderTable(
    [
      { title: ' ' },
      { title: 'Proposal' },
      { title: 'LE' },
      { title: 'Cur' },
      { title: 'Customer' },
      { title: 'Status' },
      { title: 'Lines', align: 'right' },
      { title: 'Detail amount', align: 'right' },
      { title: 'Posted voucher' },
      { title: 'Reason' },
    ],
    rows.map((r) => [
      r.ok ? '✓' : '✗',
      r.proposalId,
      r.legalEntity,
      r.currency,
      r.customer,
      r.status,
      String(r.lines),
      forPeople(r.detailAmount),
      r.voucher ?? '—',
      r.reason ? shorten(r.reason) : '',
    ]),
  );
}

/** Totals per legal entity and currency: every proposal, and the part that was posted. */
export function totalsTable(rows: readonly ProposalRow[]): string[] {
  const groups = new Map<string, ProposalRow[]>();
  for (const r of rows) {
    const key = `${r.legalEntity}|${r.currency}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const sum = (rs: readonly ProposalRow[]): Money => sumMoney(rs.map((r) => r.detailAmount));
  const body = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, rs]) => {
      const [le, cur] = key.split('|');
      const posted = rs.filter((r) => r.status === 'Posted');
      const open = rs.filter((r) => r.status !== 'Posted');
      return [
        le!,
        cur!,
        String(rs.length),
        String(posted.length),
        String(posted.reduce((n, r) => n + r.lines, 0)),
        forPeople(sum(rs)),
        forPeople(sum(posted)),
        forPeople(sum(open)),
      ];
    });
  return renderTable(
    [
      { title: 'LE' },
      { title: 'Cur' },
      { title: 'Proposals', align: 'right' },
      { title: 'Posted', align: 'right' },
      { title: 'Lines', align: 'right' },
      { title: 'Detail amount', align: 'right' },
      { title: 'Posted amount', align: 'right' },
      { title: 'Not posted', align: 'right' },
    ],
    body,
  );
}
