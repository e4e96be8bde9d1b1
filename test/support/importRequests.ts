import type { ImportRequestSender, ScheduledImportRequest } from '../../shared/messaging/importRequests';
import type { Outcome } from '../../shared/pipeline/inbound';
import { importRequested } from '../../shared/pipeline/importRequest';
import { QUEUES } from '../../shared/queues';
import type { Logger, Runtime } from '../../shared/runtime';

/**
 * Stand-in for the import-requests Service Bus queue (duplicate detection on). A request is held until the
 * test delivers it, which stands for "its window closed": the tests decide when that is, rather than the
 * clock. A resend of a message id still pending is dropped, as duplicate detection drops it; Service Bus
 * delivers a request only after its window, so no resend of that window can come after the delivery.
 * A delivery that throws leaves the request pending for redelivery, as Service Bus does.
 */
export class ImportRequestQueue implements ImportRequestSender {
  /** `eager`: test/support/reliability.ts deliver() hands the pending requests over after every delivery. */
  constructor(readonly options: { eager: boolean } = { eager: true }) {}
  private pending = new Map<string, ScheduledImportRequest>();
  readonly stats = { sent: 0, dropped: 0, delivered: 0, failed: 0, outcomes: {} as Record<string, number> };
  readonly failures: string[] = [];

  async send(r: ScheduledImportRequest): Promise<void> {
    this.stats.sent++;
    if (this.pending.has(r.messageId)) this.stats.dropped++;
    else this.pending.set(r.messageId, r);
  }

  get waiting(): number {
    return this.pending.size;
  }

  /** Delivers every request pending now to the importProposal step, each once (those sent meanwhile wait for the next call). */
  async deliverAll(rt: Runtime, log: Logger): Promise<Outcome[]> {
    const now = [...this.pending.values()];
    for (const r of now) this.pending.delete(r.messageId);
    const outcomes: Outcome[] = [];
    for (const r of now) {
      try {
        const outcome = await importRequested(
          rt,
          { source: QUEUES.importRequests, messageId: r.messageId, body: JSON.stringify(r.body) },
          log,
        );
        this.stats.delivered++;
        this.stats.outcomes[outcome.kind] = (this.stats.outcomes[outcome.kind] ?? 0) + 1;
        outcomes.push(outcome);
      } catch (e) {
        this.stats.failed++;
        this.failures.push(`${r.body.legalEntity}/${r.body.proposalId}: ${(e as Error).message}`);
        if (!this.pending.has(r.messageId)) this.pending.set(r.messageId, r); // redelivered later
      }
    }
    return outcomes;
  }
}

/** The runtime's import-requests stand-in, when the test gave it one that delivers after every delivery. */
export function importRequestQueue(rt: Runtime): ImportRequestQueue | undefined {
  return rt.importRequests instanceof ImportRequestQueue && rt.importRequests.options.eager ? rt.importRequests : undefined;
}
