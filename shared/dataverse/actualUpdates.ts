import { DynamicsWebApi } from 'dynamics-web-api';
import { ServiceProtectionGate } from './serviceProtection';
import { webApiFailure, type WebApiFailure } from './webApiErrors';
import type { TokenSource } from './accessToken';

/** The columns to set on one msdyn_actual. */
export interface ActualChange {
  actualId: string;
  columns: Record<string, unknown>;
}

export type ActualUpdateResult =
  | { kind: 'updated' }
  /** The actual is not in Dataverse (deleted there): nothing was created in its place. */
  | { kind: 'notFound'; detail: string }
  /** Dataverse refused this update for good (a 4xx other than 404/429). */
  | { kind: 'refused'; detail: string };

/** Dataverse could not be reached, failed, or kept throttling: nothing is lost by trying again later. */
export class TransientDataverseError extends Error {
  override name = 'TransientDataverseError';
}

export interface ActualUpdatesOptions {
  serverUrl: string;
  token?: TokenSource;
  gate?: ServiceProtectionGate;
  /** Updates per $batch: the Web API takes up to 1000; smaller batches keep each request well inside the 2-minute server timeout. */
  batchSize?: number;
  /** The longest this process waits in total for Retry-After within one call before giving the messages back to Service Bus. */
  maxThrottleWaitMs?: number;
  /** Client-side timeout of one request. */
  timeoutMs?: number;
}

const ENTITY_SET = 'msdyn_actuals';

/**
 * Updates msdyn_actual rows through the Web API with dynamics-web-api, many
 * per $batch. Every PATCH carries If-Match: * (the library's default for
 * update(), set here explicitly): a PATCH is an upsert in Dataverse, and this
 * one must never create an actual that was deleted. Each update is its own
 * operation, outside any change set, and the batch is sent with
 * Prefer: odata.continue-on-error: a change set is all or nothing, which would
 * let one deleted actual hold back the others; this way each actual gets its
 * own outcome, in order. The library does not retry, so this class honours
 * 429 and Retry-After itself and throws TransientDataverseError for what
 * should be tried again later.
 */
export class ActualUpdates {
  private readonly gate: ServiceProtectionGate;
  private readonly batchSize: number;
  private readonly maxThrottleWaitMs: number;

  constructor(private readonly options: ActualUpdatesOptions) {
    this.gate = options.gate ?? new ServiceProtectionGate();
    this.batchSize = Math.min(options.batchSize ?? 100, 1000);
    this.maxThrottleWaitMs = options.maxThrottleWaitMs ?? 4 * 60_000; // below host.json maxAutoLockRenewalDuration (5 min)
  }

  async apply(changes: readonly ActualChange[]): Promise<Map<string, ActualUpdateResult>> {
    const results = new Map<string, ActualUpdateResult>();
    const budget = { waitedMs: 0 };
    for (let at = 0; at < changes.length; at += this.batchSize) {
      let pending = changes.slice(at, at + this.batchSize);
      while (pending.length) {
        await this.passGate(budget);
        const answers = await this.send(pending);
        const retry: ActualChange[] = [];
        let transient: string | undefined;
        pending.forEach((change, i) => {
          const failure = answers[i];
          if (!failure) return void results.set(change.actualId, { kind: 'updated' });
          if (failure.kind === 'throttled') {
            this.gate.throttled(failure.retryAfterMs);
            retry.push(change);
          } else if (failure.kind === 'transient') transient ??= `msdyn_actual ${change.actualId}: ${failure.detail}`;
          else results.set(change.actualId, { kind: failure.kind, detail: failure.detail });
        });
        if (transient)
          throw new TransientDataverseError(`Dataverse did not take every accounting update, so they will be sent again: ${transient}`);
        pending = retry;
      }
    }
    return results;
  }

  /** Waits for the latest Retry-After, within this call's budget. */
  private async passGate(budget: { waitedMs: number }): Promise<void> {
    const wait = this.gate.waitMs();
    if (budget.waitedMs + wait > this.maxThrottleWaitMs) {
      throw new TransientDataverseError(
        `Dataverse service protection limits: Retry-After asks for ${Math.ceil(wait / 1000)} s more; the messages go back to Service Bus`,
      );
    }
    const started = Date.now();
    await this.gate.pass();
    budget.waitedMs += Date.now() - started;
  }

  /** One $batch; per change, undefined when it was applied, else what went wrong. A failure of the batch as a whole counts for every change. */
  private async send(pending: readonly ActualChange[]): Promise<(WebApiFailure | undefined)[]> {
    // A fresh client per batch: the library keeps the batch being built on the instance, so concurrent invocations must not share one.
    const api = new DynamicsWebApi({
      serverUrl: this.options.serverUrl,
      onTokenRefresh: this.options.token ?? null,
      propagateErrors: true,
      timeout: this.options.timeoutMs ?? 100_000,
    });
    api.startBatch();
    await Promise.all(
      pending.map((c) => api.update({ collection: ENTITY_SET, key: c.actualId, data: c.columns, ifmatch: '*', inChangeSet: false })),
    );
    let answers: unknown[];
    try {
      answers = await api.executeBatch({ continueOnError: true, inChangeSet: false });
    } catch (e) {
      const failure = webApiFailure(Array.isArray(e) ? (e.find((x) => x instanceof Error) ?? e[0]) : e);
      if (failure.kind === 'throttled' || failure.kind === 'transient') return pending.map(() => failure);
      // The batch itself was refused (malformed, too large): no update of it can have been applied.
      throw new TransientDataverseError(`the $batch was refused as a whole (${failure.detail})`);
    }
    if (!Array.isArray(answers) || answers.length !== pending.length) {
      throw new TransientDataverseError(
        `the $batch answered ${Array.isArray(answers) ? answers.length : 'no'} results for ${pending.length} updates`,
      );
    }
    return answers.map((a) => (a instanceof Error ? webApiFailure(a) : undefined));
  }
}
