/**
 * How much work each measurement does. `full` is issue 7's shapes; `quick`
 * (`npm run bench -- --quick`) is the same without the 50,000-line invoice,
 * a few minutes shorter; `tiny` exercises every code path in seconds
 * (test/bench.test.ts) and its figures mean nothing.
 */
export interface Scale {
  name: 'full' | 'quick' | 'tiny';
  /** Repetitions per figure (the median is reported). */
  repetitions: number;
  linesPerProposal: number;
  /** Proposals at once in the import, and transactions at once in its baseline. */
  importConcurrency: number;
  m1Proposals: number;
  m2HistoryProposals: number;
  m2PendingProposals: number;
  /** Deliveries per repetition of measurements 3 and 4 (and upserts of their baseline). */
  syncDeliveries: number;
  /**
   * Repetitions of measurements 3 and 4: more, and shorter, than the others, because their ratios sit near the
   * target and one repetition on a busy 2-core machine can swing 20 % (a median of five is steadier than of three).
   */
  syncRepetitions: number;
  syncConcurrency: number;
  m5Proposals: number;
  /**
   * Measurement 5 is the one exception to "median of three": in Azurite every delete (and every
   * insert, more cheaply) costs time in proportion to the whole table, so draining 100,000 staged
   * rows takes minutes and three repetitions would break the 10-minute budget. Its figure is a peak,
   * read every 5 ms, and it does not depend on the machine's load the way throughput does.
   */
  m5Repetitions: number;
  httpConnections: number;
  /** Seconds of load per repetition of measurement 6. */
  httpSeconds: number;
  httpProposals: number;
  /** New postings per repetition of row 6c (each proposal is posted once). */
  httpFreshPostings: number;
  m7Deliveries: number;
  /** Lines of the very large invoice taken end to end (measurement 8). */
  largeLines: number;
  /** Lines of the even larger one (full scale only: minutes of Azurite). */
  hugeLines: number | null;
  /** Invoices whose last-message-to-lines latency measurement 8 takes, and how many are delivered at once. */
  latencyInvoices: number;
  latencyConcurrency: number;
}

const full: Scale = {
  name: 'full',
  repetitions: 3,
  linesPerProposal: 10,
  importConcurrency: 16,
  m1Proposals: 2_000,
  m2HistoryProposals: 5_000,
  m2PendingProposals: 100,
  syncDeliveries: 2_000,
  syncRepetitions: 5,
  syncConcurrency: 16,
  m5Proposals: 10_000,
  m5Repetitions: 1,
  httpConnections: 32,
  httpSeconds: 8,
  httpProposals: 64,
  httpFreshPostings: 1_000,
  m7Deliveries: 200,
  largeLines: 10_000,
  hugeLines: 50_000,
  latencyInvoices: 50,
  latencyConcurrency: 5,
};

export const SCALES: Record<Scale['name'], Scale> = {
  full,
  quick: { ...full, name: 'quick', hugeLines: null },
  tiny: {
    name: 'tiny',
    repetitions: 3,
    linesPerProposal: 10,
    importConcurrency: 4,
    m1Proposals: 4,
    m2HistoryProposals: 6,
    m2PendingProposals: 2,
    syncDeliveries: 30,
    syncRepetitions: 3,
    syncConcurrency: 4,
    m5Proposals: 6,
    m5Repetitions: 1,
    httpConnections: 4,
    httpSeconds: 1,
    httpProposals: 2,
    httpFreshPostings: 12,
    m7Deliveries: 10,
    // Past SEND_WITH_ANSWER_MAX_LINES, so the tiny run takes the large posting's path; test/largeInvoice.test.ts goes further.
    largeLines: 1_001,
    hugeLines: null,
    latencyInvoices: 2,
    latencyConcurrency: 2,
  },
};

export function scaleFrom(name: string | undefined): Scale {
  const key = (name ?? 'full').toLowerCase();
  if (key !== 'full' && key !== 'quick' && key !== 'tiny') throw new Error(`BENCH_SCALE must be "full", "quick" or "tiny", not "${name}"`);
  return SCALES[key];
}
