import { DynamicsWebApi } from 'dynamics-web-api';
import type { TokenSource } from './accessToken';
import { TransientDataverseError } from './actualUpdates';
import { ServiceProtectionGate } from './serviceProtection';
import { webApiFailure } from './webApiErrors';

export type WebApiRow = Record<string, unknown>;

export interface WebApiReadsOptions {
  serverUrl: string;
  token?: TokenSource;
  gate?: ServiceProtectionGate;
  /** The longest one read waits behind a Retry-After before giving the message back to Service Bus. */
  maxThrottleWaitMs?: number;
  /** Client-side timeout of one request. */
  timeoutMs?: number;
}

/** Dataverse's @odata.count stops at this many rows ("Use the Web API to count rows"); beyond it the rows are counted page by page. */
const COUNT_LIMIT = 5000;

/**
 * The reads the inbound lookups need: one row by id, and a count. 404 is an
 * answer (undefined: the row is not there); 429 records its Retry-After for
 * every request of this process and, like 5xx, 401/403 and timeouts, throws
 * TransientDataverseError so Service Bus redelivers. Any other refusal (400:
 * a column this environment does not have) is a configuration problem that
 * every message would meet: it throws too, so the messages dead-letter with
 * the reason instead of being completed.
 */
export class WebApiReads {
  private readonly api: DynamicsWebApi;
  private readonly gate: ServiceProtectionGate;
  private readonly maxThrottleWaitMs: number;

  constructor(options: WebApiReadsOptions) {
    this.gate = options.gate ?? new ServiceProtectionGate();
    this.maxThrottleWaitMs = options.maxThrottleWaitMs ?? 60_000;
    this.api = new DynamicsWebApi({
      serverUrl: options.serverUrl,
      onTokenRefresh: options.token ?? null,
      propagateErrors: true,
      timeout: options.timeoutMs ?? 30_000,
    });
  }

  /** GET set(id)?$select=…; undefined when Dataverse answers 404. */
  async row(collection: string, id: string, select: readonly string[]): Promise<WebApiRow | undefined> {
    return this.read(`${collection}(${id})`, async () => {
      const row: unknown = await this.api.retrieve({
        collection,
        key: id,
        select: [...select],
        // names the table of a lookup that can point to several (customerid: account or contact)
        includeAnnotations: 'Microsoft.Dynamics.CRM.lookuplogicalname',
      });
      return (row ?? undefined) as WebApiRow | undefined;
    });
  }

  /** How many rows of `collection` match `filter` ($count=true; paged beyond Dataverse's 5,000-row count limit). */
  async count(collection: string, filter: string, keyColumn: string): Promise<number> {
    const counted = await this.read(`${collection}?$filter=${filter}`, async () => {
      const answer = await this.api.retrieveMultiple({ collection, filter, count: true, select: [keyColumn], maxPageSize: 1 });
      return answer.oDataCount ?? answer['@odata.count'];
    });
    if (typeof counted !== 'number') throw new TransientDataverseError(`${collection}: the Web API gave no @odata.count`);
    if (counted < COUNT_LIMIT) return counted;
    const all = await this.read(`${collection}?$filter=${filter} (all pages)`, () =>
      this.api.retrieveAll({ collection, filter, select: [keyColumn], maxPageSize: COUNT_LIMIT }),
    );
    return all!.value.length;
  }

  private async read<T>(what: string, request: () => Promise<T>): Promise<T | undefined> {
    const wait = this.gate.waitMs();
    if (wait > this.maxThrottleWaitMs) {
      throw new TransientDataverseError(`Dataverse service protection limits: Retry-After asks for ${Math.ceil(wait / 1000)} s more`);
    }
    await this.gate.pass();
    try {
      return await request();
    } catch (e) {
      const failure = webApiFailure(e);
      switch (failure.kind) {
        case 'notFound':
          return undefined;
        case 'throttled':
          this.gate.throttled(failure.retryAfterMs);
          throw new TransientDataverseError(`reading ${what}: ${failure.detail}`, { cause: e });
        case 'transient':
          throw new TransientDataverseError(`reading ${what}: ${failure.detail}`, { cause: e });
        case 'refused':
          throw new Error(`Dataverse refused reading ${what} (${failure.detail}); check the Dataverse settings and the app user's role`, {
            cause: e,
          });
      }
    }
  }
}
