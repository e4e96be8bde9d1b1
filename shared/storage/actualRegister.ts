import type { TableClient } from '@azure/data-tables';
import type { Actual } from '../contracts/actual';
import { isNotFound } from './conditions';
import { encodeKeyPart, SEPARATOR } from './keys';

/**
 * Every actual received, by legal entity and actual id, whatever its type: the
 * answer to "what happened to actual X" (GET /api/actuals/...) and the record
 * of non-billed actuals, which never reach a proposal.
 */
export const registerKey = (legalEntity: string, actualId: string) =>
  `${encodeKeyPart(legalEntity)}${SEPARATOR}${encodeKeyPart(actualId)}`;

const ROW = 'actual';
type Entity = { partitionKey: string; rowKey: string; etag: string; json: string };

/** The register row of an actual (what create and replace write). */
export function registerEntity(a: Actual) {
  return {
    partitionKey: registerKey(a.legalEntity, a.actualId),
    rowKey: ROW,
    transactionType: a.transactionType,
    version: String(a.version),
    json: JSON.stringify(a),
  };
}

export class ActualRegister {
  constructor(private readonly table: TableClient) {}

  async get(legalEntity: string, actualId: string): Promise<{ value: Actual; etag: string } | undefined> {
    try {
      const row = await this.table.getEntity<Entity>(registerKey(legalEntity, actualId), ROW);
      return { value: JSON.parse(row.json) as Actual, etag: row.etag };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Throws 409 when the actual is already registered. */
  async create(a: Actual): Promise<void> {
    await this.table.createEntity(registerEntity(a));
  }

  /** Throws 412 when the row changed since it was read. */
  async replace(a: Actual, etag: string): Promise<void> {
    await this.table.updateEntity(registerEntity(a), 'Replace', { etag });
  }
}
