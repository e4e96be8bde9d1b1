import type { FlowState, QueueDepth, Summary } from '../contracts/operations';
import type { Runtime } from '../runtime';
import { countInState } from './stateLists';

/** What the summary asks of the platform: queue depths where it can tell, and which flows are paused. */
export interface SummarySources {
  queues: () => Promise<QueueDepth[]>;
  flows: () => Promise<FlowState[]>;
}

/**
 * The integration at a glance. Counts read the state index's live states
 * (keys only) and today's postings: what is pending, never history.
 */
export async function summary(rt: Runtime, sources: SummarySources): Promise<Summary> {
  const now = rt.now();
  const [awaiting, error, created, postedToday, quarantined, lastImport, queues, flows] = await Promise.all([
    countInState(rt, 'AwaitingLines'),
    countInState(rt, 'Error'),
    countInState(rt, 'LinesCreated'),
    countInState(rt, 'Posted', now.toISOString().slice(0, 10)),
    rt.quarantine.countOpen(),
    rt.importRuns.read(),
    sources.queues(),
    sources.flows(),
  ]);
  return {
    generatedAt: now.toISOString(),
    states: { AwaitingLines: awaiting.count, Error: error.count, LinesCreated: created.count, PostedToday: postedToday.count },
    oldestWaiting: awaiting.oldest ?? null,
    quarantined,
    lastImport: lastImport ?? null,
    queues,
    flows,
  };
}
