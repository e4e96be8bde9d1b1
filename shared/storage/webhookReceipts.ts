import { odata, type TableClient } from '@azure/data-tables';
import { isConflict, isNotFound, isPreconditionFailed } from './conditions';
import { encodeKeyPart } from './keys';

/**
 * Posting callbacks already applied, by Standard Webhooks message id, with the
 * answer they got. Partitioned by the UTC day of the signed timestamp, so a
 * lookup is one point read and old days can be dropped whole; a signature is
 * only valid within ±5 minutes of that timestamp, so days are kept for a week.
 */
export const RECEIPT_DAYS_KEPT = 7;

export interface StoredAnswer {
  status: number;
  body: unknown;
}

export type Claim =
  | { kind: 'claimed'; etag: string }
  | { kind: 'answered'; answer: StoredAnswer }
  | { kind: 'inProgress' }
  /** The id was claimed by a request with another route or body: one id names one callback. */
  | { kind: 'reused' };

type Entity = { partitionKey: string; rowKey: string; etag: string; state: string; claimedAt: string; request?: string; answer?: string };

/** A claim older than this is taken over: the instance that made it died before answering. */
const CLAIM_LEASE_MS = 60_000;

export class WebhookReceipts {
  constructor(private readonly table: TableClient) {}

  private key(webhookId: string, signedAt: Date) {
    return { partitionKey: signedAt.toISOString().slice(0, 10), rowKey: encodeKeyPart(webhookId) };
  }

  /**
   * Claims a message id before it is applied, or returns the answer it already
   * got. `request` fingerprints the route and body: a repeat must be the same
   * request to get the first one's answer.
   */
  async claim(webhookId: string, signedAt: Date, now: Date, request: string): Promise<Claim> {
    const key = this.key(webhookId, signedAt);
    for (let attempt = 0; attempt < 5; attempt++) {
      const fresh = { ...key, state: 'processing', claimedAt: now.toISOString(), request };
      try {
        return { kind: 'claimed', etag: (await this.table.createEntity(fresh)).etag! };
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
      let row: Entity;
      try {
        row = await this.table.getEntity<Entity>(key.partitionKey, key.rowKey);
      } catch (e) {
        if (isNotFound(e)) continue; // released meanwhile: claim again
        throw e;
      }
      if (row.request !== undefined && row.request !== request) return { kind: 'reused' };
      if (row.state === 'answered' && row.answer) return { kind: 'answered', answer: JSON.parse(row.answer) as StoredAnswer };
      if (Date.parse(row.claimedAt) + CLAIM_LEASE_MS > now.getTime()) return { kind: 'inProgress' };
      try {
        const r = await this.table.updateEntity(fresh, 'Replace', { etag: row.etag });
        return { kind: 'claimed', etag: r.etag! };
      } catch (e) {
        if (!isPreconditionFailed(e)) throw e;
      }
    }
    return { kind: 'inProgress' };
  }

  /** Records the answer of an applied callback; a repeat gets exactly this. */
  async answer(webhookId: string, signedAt: Date, etag: string, answer: StoredAnswer): Promise<void> {
    const key = this.key(webhookId, signedAt);
    await this.table.updateEntity({ ...key, state: 'answered', answer: JSON.stringify(answer) }, 'Merge', { etag });
  }

  /**
   * Drops the receipts of the day that has just passed RECEIPT_DAYS_KEPT, row
   * by row with the ETags read. Run often (the outbox sweep does), it keeps the
   * table to about a week of ids at the cost of one small query per run.
   */
  async purgeExpired(now: Date): Promise<number> {
    const day = new Date(now.getTime() - (RECEIPT_DAYS_KEPT + 1) * 86_400_000).toISOString().slice(0, 10);
    let removed = 0;
    for await (const row of this.table.listEntities<Entity>({
      queryOptions: { filter: odata`PartitionKey eq ${day}`, select: ['RowKey'] },
    })) {
      try {
        await this.table.deleteEntity(day, row.rowKey, { etag: row.etag });
        removed++;
      } catch (e) {
        if (!isNotFound(e) && !isPreconditionFailed(e)) throw e;
      }
    }
    return removed;
  }

  /** Lets the sender's retry be evaluated afresh (the callback was not applied). */
  async release(webhookId: string, signedAt: Date, etag: string): Promise<void> {
    const key = this.key(webhookId, signedAt);
    try {
      await this.table.deleteEntity(key.partitionKey, key.rowKey, { etag });
    } catch (e) {
      if (!isNotFound(e) && !isPreconditionFailed(e)) throw e;
    }
  }
}
