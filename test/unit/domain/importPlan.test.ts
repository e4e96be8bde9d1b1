import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BilledSalesActual } from '../../../shared/contracts/actual';
import { buildId, numberLines, planImport, type ImportInput } from '../../../shared/domain/importPlan';
import { formatMoney, parseMoney, sumMoney } from '../../../shared/contracts/money';
import { actualIdsDigest, awaitingReason, decideHeader, takeDownFor, type ProposalHeader } from '../../../shared/domain/proposal';
import { billed, GUID, header, invoice, postedHeader, shuffled } from '../support/domain';
import { inputsOf, messages, ownActuals, type Message } from '../support/importModel';

const A = GUID(1, 'act');
const B = GUID(2, 'act');
const C = GUID(3, 'act');

/** A header freshly created for an invoice expecting these actuals (count and detail amount taken from them). */
function awaiting(actuals: readonly BilledSalesActual[], overrides: Parameters<typeof invoice>[0] = {}): ProposalHeader {
  const detailAmount = formatMoney(sumMoney(actuals.map((a) => a.amount)));
  const created = decideHeader(
    undefined,
    invoice({ transactionCount: actuals.length, detailAmount, totalAmount: detailAmount, ...overrides }),
  );
  if (created.kind !== 'create') throw new Error('a first header is always created');
  return created.header;
}

const plan = (input: Partial<ImportInput> & Pick<ImportInput, 'header'>) => planImport({ known: [], staged: [], ...input });
const ids = (actuals: readonly BilledSalesActual[]) => actuals.map((a) => `${a.actualId}@${a.version}`);

describe('buildId: the same actuals at the same versions give the same build', () => {
  it('does not depend on the order the actuals are listed in', () => {
    const actuals = [A, B, C].map((actualId, i) => billed({ actualId, version: i }));
    fc.assert(
      fc.property(shuffled(actuals), (reordered) => {
        expect(buildId(reordered)).toBe(buildId(actuals));
      }),
    );
  });

  it('changes when a version changes or an actual is added', () => {
    const one = [billed({ actualId: A, version: 1 })];
    expect(buildId([billed({ actualId: A, version: 2 })])).not.toBe(buildId(one));
    expect(buildId([...one, billed({ actualId: B })])).not.toBe(buildId(one));
  });
});

describe('numberLines: a stable line order', () => {
  it('numbers lines 1..n by document date, then actual id', () => {
    const late = billed({ actualId: A, documentDate: '2026-11-03' });
    const earlyB = billed({ actualId: B, documentDate: '2026-11-01' });
    const earlyC = billed({ actualId: C, documentDate: '2026-11-01' });
    expect(numberLines([late, earlyC, earlyB])).toEqual([
      { lineNumber: 1, actual: earlyB },
      { lineNumber: 2, actual: earlyC },
      { lineNumber: 3, actual: late },
    ]);
  });

  it('never depends on arrival order', () => {
    const actuals = [A, B, C, GUID(4, 'act')].map((actualId, i) => billed({ actualId, documentDate: `2026-11-0${(i % 2) + 1}` }));
    fc.assert(
      fc.property(shuffled(actuals), (reordered) => {
        expect(numberLines(reordered)).toEqual(numberLines(actuals));
      }),
    );
  });
});

describe('planImport: named cases', () => {
  const a = billed({ actualId: A, amount: '100.00', documentDate: '2026-11-02' });
  const b = billed({ actualId: B, amount: '50.25', documentDate: '2026-11-01' });

  it('parks actuals that arrive before their header, and changes no header', () => {
    expect(plan({ header: undefined, staged: [a, b] })).toEqual({ toPark: [a, b], toDepart: [], refused: [], header: null, lines: [] });
  });

  it('waits, saying how many actuals are staged, while some are missing', () => {
    const result = plan({ header: awaiting([a, b]), staged: [a] });
    expect(result.header).toEqual({ status: 'AwaitingLines', reason: awaitingReason(1, 2), activeBuild: null, lineCount: 0 });
    expect(result.lines).toEqual([]);
  });

  it('writes no header change when the reason it would write is already there', () => {
    expect(plan({ header: awaiting([a, b]) }).header).toBeNull();
  });

  it('creates all lines in one build once every actual is there and the amounts add up', () => {
    const result = plan({ header: awaiting([a, b]), known: [a], staged: [b] });
    expect(result.header).toEqual({
      status: 'LinesCreated',
      reason: null,
      activeBuild: buildId([a, b]),
      lineCount: 2,
      // what a posting is checked against without reading the lines
      lineActuals: { build: buildId([a, b]), digest: actualIdsDigest([b.actualId, a.actualId]) },
    });
    expect(result.lines).toEqual(numberLines([a, b]));
    expect(result.toPark).toEqual([b]);
  });

  it('takes the digest of the lines off the header with the lines: the header is the same whichever builds came before', () => {
    const lines = { build: buildId([a, b]), digest: actualIdsDigest([a.actualId, b.actualId]) };
    const shown = header(awaiting([a, b]).invoice, {
      status: 'LinesCreated',
      reason: null,
      activeBuild: lines.build,
      lineCount: 2,
      lineActuals: lines,
    });
    const revised = billed({ actualId: A, amount: '99.00', documentDate: '2026-11-02', version: 2 });
    const result = plan({ header: shown, known: [a, b], staged: [revised] });
    expect(result.header?.status).toBe('Error');
    const stored = JSON.parse(JSON.stringify({ ...shown, ...result.header })) as ProposalHeader; // as the store writes the merge
    expect(stored).not.toHaveProperty('lineActuals');
    expect(JSON.parse(JSON.stringify(takeDownFor(shown, A)))).not.toHaveProperty('lineActuals');
    const changedTotals = decideHeader(shown, { ...shown.invoice, version: 2, detailAmount: '1.00', totalAmount: '1.00' });
    expect(changedTotals.kind === 'update' && JSON.parse(JSON.stringify(changedTotals.header))).not.toHaveProperty('lineActuals');
  });

  it('writes no new build when the proposal already shows this one', () => {
    const shown = header(awaiting([a, b]).invoice, { status: 'LinesCreated', reason: null, activeBuild: buildId([a, b]), lineCount: 2 });
    expect(plan({ header: shown, known: [a, b], staged: [a] })).toMatchObject({ header: null, lines: [], toPark: [] });
  });

  it.each([
    ['the amounts do not add up to detailAmount', { detailAmount: '150.24', totalAmount: '150.24' }, /amount mismatch/],
    ['there are more actuals than transactionCount', { transactionCount: 1 }, /too many/],
    ['an actual is in another currency', { currency: 'EUR' }, /is in USD but the invoice is in EUR/],
    ['an actual belongs to another invoice', { invoiceId: GUID(9, 'inv') }, /belongs to invoice/],
  ])('refuses every line with an Error when %s', (_, overrides, reason) => {
    const result = plan({ header: awaiting([a, b], overrides), staged: [a, b] });
    expect(result.header).toMatchObject({ status: 'Error', reason: expect.stringMatching(reason), activeBuild: null, lineCount: 0 });
    expect(result.lines).toEqual([]);
  });

  it('names the same first problem whichever of the faulty actuals it already held', () => {
    const foreignA = { ...a, currency: 'EUR' };
    const foreignB = { ...b, invoiceId: GUID(9, 'inv') };
    const h = awaiting([a, b]);
    const reason = (known: BilledSalesActual[], staged: BilledSalesActual[]) => plan({ header: h, known, staged }).header?.reason;
    expect(reason([foreignB], [foreignA])).toBe(reason([foreignA], [foreignB]));
  });

  it('keeps the latest version of each actual, from what it holds or what arrives, duplicates included', () => {
    const a2 = { ...a, version: 2 };
    const result = plan({ header: awaiting([a2, b]), known: [a2], staged: [a, b, b, a] });
    expect(result.toPark).toEqual([b]);
    expect(result.lines.map((l) => l.actual)).toEqual(numberLines([a2, b]).map((l) => l.actual));
  });

  it('does not count an actual that departed, and says why it waits', () => {
    const result = plan({ header: awaiting([a, b]), known: [a], staged: [b], leaving: [{ actualId: A, through: 1 }] });
    expect(result.toDepart).toEqual([{ actualId: A, through: 1 }]);
    expect(result.header?.status).toBe('AwaitingLines');
    expect(result.header?.reason).toContain(awaitingReason(1, 2));
    expect(result.header?.reason).toContain(A);
  });

  it('lets a departure win over the very version it names', () => {
    const result = plan({ header: awaiting([a]), staged: [{ ...a, version: 3 }], leaving: [{ actualId: A, through: 3 }] });
    expect(result.toPark).toEqual([]);
    expect(result.header?.status).toBe('AwaitingLines');
  });

  it('lets a later version naming the proposal win over a departure', () => {
    const back = { ...a, version: 4 };
    const result = plan({ header: awaiting([back]), departed: [{ actualId: A, through: 3 }], staged: [back] });
    expect(result.toPark).toEqual([back]);
    expect(result.lines.map((l) => l.actual)).toEqual([back]);
  });
});

describe('planImport: a posted proposal keeps what it posted', () => {
  const a = billed({ actualId: A, version: 1 });
  const posted = postedHeader({ transactionCount: 1 });

  it('refuses a newer version of an actual it posted, naming the version it keeps', () => {
    const result = plan({ header: posted, known: [a], staged: [{ ...a, version: 2 }] });
    expect(result).toMatchObject({ toPark: [], header: null, lines: [] });
    expect(result.refused).toEqual([{ actual: { ...a, version: 2 }, reason: expect.stringContaining('keeps version 1') }]);
  });

  it('refuses an actual that arrives after posting, as too late', () => {
    const late = billed({ actualId: B });
    expect(plan({ header: posted, known: [a], staged: [late] }).refused).toEqual([
      { actual: late, reason: expect.stringContaining('too late') },
    ]);
  });

  it('does not refuse a redelivery of the version it posted', () => {
    expect(plan({ header: posted, known: [a], staged: [a] })).toEqual({ toPark: [], toDepart: [], refused: [], header: null, lines: [] });
  });

  it('ignores the departure of an actual it posted, but records one it never held', () => {
    const leaving = [
      { actualId: A, through: 5 },
      { actualId: B, through: 5 },
    ];
    expect(plan({ header: posted, known: [a], leaving }).toDepart).toEqual([{ actualId: B, through: 5 }]);
  });

  it('never parks, builds or changes its header, whatever arrives', () => {
    fc.assert(
      fc.property(messages, fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), (sent, held) => {
        const result = planImport({ header: posted, ...inputsOf(sent, held) });
        expect(result).toMatchObject({ toPark: [], header: null, lines: [] });
      }),
    );
  });
});

/** What Import from staging should conclude, by the rules, from every message the proposal saw. */
function expectedLines(h: ProposalHeader, sent: readonly Message[]): BilledSalesActual[] | null {
  const own = ownActuals(sent);
  const inv = h.invoice;
  const fits =
    own.every((x) => x.invoiceId === inv.invoiceId && x.currency === inv.currency) &&
    own.length === inv.transactionCount &&
    sumMoney(own.map((x) => x.amount)) === parseMoney(inv.detailAmount);
  return fits ? own : null;
}

/** A fresh header for the messages: often one they fit exactly, otherwise one off by a count or a cent. */
const headerFor = (sent: readonly Message[]) =>
  fc.constantFrom('fits', 'fits', 'count', 'cent').map((miss) => {
    const own = ownActuals(sent).filter((x) => x.currency === 'USD');
    const count = Math.max(1, own.length + (miss === 'count' ? 1 : 0));
    const detail = formatMoney(sumMoney(own.map((x) => x.amount)) + (miss === 'cent' ? 10_000n : 0n));
    return awaiting([], { transactionCount: count, detailAmount: detail, totalAmount: detail });
  });

const scenario = messages.chain((sent) =>
  fc.record({
    sent: fc.constant(sent),
    h: headerFor(sent),
    held: fc.array(fc.boolean(), { minLength: sent.length, maxLength: sent.length }),
    order: shuffled(sent.map((_, i) => i)),
  }),
);

describe('planImport: properties', () => {
  it('writes all the lines or none: exactly transactionCount actuals summing to detailAmount, or no lines and a reason', () => {
    fc.assert(
      fc.property(scenario, ({ sent, h, held }) => {
        const result = planImport({ header: h, ...inputsOf(sent, held) });
        const expected = expectedLines(h, sent);
        if (expected) {
          expect(result.header).toEqual({
            status: 'LinesCreated',
            reason: null,
            activeBuild: buildId(expected),
            lineCount: h.invoice.transactionCount,
            lineActuals: { build: buildId(expected), digest: actualIdsDigest(expected.map((x) => x.actualId)) },
          });
          expect(sumMoney(result.lines.map((l) => l.actual.amount))).toBe(parseMoney(h.invoice.detailAmount));
          expect(ids(result.lines.map((l) => l.actual)).sort()).toEqual(ids(expected).sort());
          expect(result.lines.map((l) => l.lineNumber)).toEqual(expected.map((_, i) => i + 1));
        } else {
          expect(result.lines).toEqual([]);
          const state = result.header ?? h;
          expect(state).toMatchObject({ activeBuild: null, lineCount: 0, reason: expect.any(String) });
          expect(['AwaitingLines', 'Error']).toContain(state.status);
        }
      }),
    );
  });

  it('does not depend on which messages were held before or the order they arrive in', () => {
    fc.assert(
      fc.property(scenario, ({ sent, h, held, order }) => {
        const allAtOnce = planImport({ header: h, ...inputsOf(sent, []) });
        const reordered = order.map((i) => sent[i]!);
        const result = planImport({
          header: h,
          ...inputsOf(
            reordered,
            order.map((i) => held[i]!),
          ),
        });
        expect(result.header).toEqual(allAtOnce.header);
        expect(result.lines).toEqual(allAtOnce.lines);
      }),
    );
  });

  it('a departure through N hides every version up to N, and a later version wins', () => {
    fc.assert(
      fc.property(fc.nat(6), fc.nat(6), fc.boolean(), fc.boolean(), (v, through, versionHeld, departureHeld) => {
        const a = billed({ actualId: A, version: v });
        const sent: Message[] = [
          { kind: 'version', actual: a },
          { kind: 'departure', departed: { actualId: A, through } },
        ];
        const result = planImport({ header: awaiting([a]), ...inputsOf(sent, [versionHeld, departureHeld]) });
        expect(result.lines.map((l) => l.actual)).toEqual(v > through ? [a] : []);
      }),
    );
  });
});
