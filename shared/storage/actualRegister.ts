import type { TableClient } from '@azure/data-tables';
import type { Actual } from '../contracts/actual';
import type { RefusedVersion, RegisterEntry } from '../domain/register';
import { isNotFound } from './conditions';
import { encodeKeyPart } from './keys';

/**
 * Every actual received, by its id alone (normalised Dataverse GUID), whatever
 * its type, legal entity or proposal: the one place that says which version of
 * an actual the system accepted (docs/storage.md, "One identity per actual"),
 * and the answer to "what happened to actual X" (GET /api/actuals/...).
 */
export const registerKey = (actualId: string) => encodeKeyPart(actualId);

const ROW = 'actual';
type Entity = { partitionKey: string; rowKey: string; etag: string; json: string; refused?: string };

/** The register row of an entry (what create and replace write). */
export function registerEntity(a: Actual, refused: RefusedVersion | null = null) {
  return {
    partitionKey: registerKey(a.actualId),
    rowKey: ROW,
    transactionType: a.transactionType,
    version: String(a.version),
    json: JSON.stringify(a),
    refused: refused ? JSON.stringify(refused) : '',
  };
}

export class ActualRegister {
  constructor(private readonly table: TableClient) {}

  async get(actualId: string): Promise<{ value: RegisterEntry; etag: string } | undefined> {
    try {
      const row = await this.table.getEntity<Entity>(registerKey(actualId), ROW);
      const refused = row.refused ? (JSON.parse(row.refused) as RefusedVersion) : null;
      return { value: { actual: JSON.parse(row.json) as Actual, refused }, etag: row.etag };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Throws 409 when the actual is already registered. */
  async create(a: Actual): Promise<void> {
    await this.table.createEntity(registerEntity(a));
  }

  /** Accepts a newer version; throws 412 when the row changed since it was read. */
  async replace(a: Actual, etag: string): Promise<void> {
    await this.table.updateEntity(registerEntity(a), 'Replace', { etag });
  }

  /** Records a refused later version beside the accepted one; throws 412 when the row changed since it was read. */
  async recordRefusal(entry: RegisterEntry, refused: RefusedVersion, etag: string): Promise<void> {
    await this.table.updateEntity(registerEntity(entry.actual, refused), 'Replace', { etag });
  }
}
