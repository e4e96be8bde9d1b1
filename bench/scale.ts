/**
 * How much work each measurement does. `full` is issue 7's shapes; `tiny`
 * exercises every code path in seconds (test/bench.test.ts) and its figures
 * mean nothing.
 */
export interface Scale {
  name: 'full' | 'tiny';
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
  m7Deliveries: number;
  /** Invoices whose last-message-to-lines latency measurement 8 takes, and how many are delivered at once. */
  latencyInvoices: number;
  latencyConcurrency: number;
}

export const SCALES: Record<Scale['name'], Scale> = {
  full: {
    name: 'full',
    repetitions: 3,
    linesPerProposal: 10,
    importConcurrency: 16,
    m1Proposals: 2_000,
    m2HistoryProposals: 5_000,
    m2PendingProposals: 100,
    syncDeliveries: 3_000,
    syncConcurrency: 16,
    m5Proposals: 10_000,
    m5Repetitions: 1,
    httpConnections: 32,
    httpSeconds: 8,
    httpProposals: 64,
    m7Deliveries: 200,
    latencyInvoices: 50,
    latencyConcurrency: 5,
  },
  tiny: {
    name: 'tiny',
    repetitions: 3,
    linesPerProposal: 10,
    importConcurrency: 4,
    m1Proposals: 4,
    m2HistoryProposals: 6,
    m2PendingProposals: 2,
    syncDeliveries: 30,
    syncConcurrency: 4,
    m5Proposals: 6,
    m5Repetitions: 1,
    httpConnections: 4,
    httpSeconds: 1,
    httpProposals: 2,
    m7Deliveries: 10,
    latencyInvoices: 3,
    latencyConcurrency: 3,
  },
};

export function scaleFrom(name: string | undefined): Scale {
  const key = (name ?? 'full').toLowerCase();
  if (key !== 'full' && key !== 'tiny') throw new Error(`BENCH_SCALE must be "full" or "tiny", not "${name}"`);
  return SCALES[key];
}
