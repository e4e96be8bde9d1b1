/**
 * The stand-in's rows, in memory. Every create or update takes the next
 * value of one counter as the row's versionnumber, as Dataverse's row version
 * grows across the whole organisation; the ETag is W/"<versionnumber>".
 * versionnumber is a bigint here, never a float.
 */
import { randomUUID } from 'node:crypto';
import type { EntitySetDefinition, EntitySets } from './entitySets';

export type Row = Record<string, unknown>;
export type AlternateKey = Readonly<Record<string, string | number>>;

export class DataverseRecords {
  private tables = new Map<string, Map<string, Row>>();
  private lastVersion: bigint;

  constructor(
    readonly sets: EntitySets,
    firstVersion = 1_000_000n,
  ) {
    this.lastVersion = firstVersion - 1n;
  }

  definition(set: string): EntitySetDefinition | undefined {
    return Object.hasOwn(this.sets, set) ? this.sets[set] : undefined;
  }

  /** Adds rows as they are (an id is made up when the row has none); returns their ids. */
  seed(set: string, rows: readonly Row[]): string[] {
    return rows.map((row) => this.create(set, undefined, row)[this.key(set)] as string);
  }

  rows(set: string): Row[] {
    return [...this.table(set).values()].map((row) => ({ ...row }));
  }

  row(set: string, id: string): Row | undefined {
    const row = this.table(set).get(id.toLowerCase());
    return row && { ...row };
  }

  findByAlternateKey(set: string, key: AlternateKey): Row | undefined {
    const columns = Object.keys(key);
    for (const row of this.table(set).values()) {
      if (columns.every((c) => row[c] === key[c])) return { ...row };
    }
    return undefined;
  }

  create(set: string, id: string | undefined, columns: Row): Row {
    const key = this.key(set);
    const rowId = String(id ?? columns[key] ?? randomUUID()).toLowerCase();
    const row = { ...columns, [key]: rowId, versionnumber: this.nextVersion() };
    this.table(set).set(rowId, row);
    return { ...row };
  }

  update(set: string, id: string, columns: Row): Row {
    const existing = this.table(set).get(id);
    if (!existing) throw new Error(`no ${set} row ${id}`);
    const row = { ...existing, ...columns, [this.key(set)]: id, versionnumber: this.nextVersion() };
    this.table(set).set(id, row);
    return { ...row };
  }

  delete(set: string, id: string): boolean {
    return this.table(set).delete(id);
  }

  /** For change sets: everything can be put back as it was. */
  snapshot(): () => void {
    const saved = new Map([...this.tables].map(([set, rows]) => [set, new Map(rows)]));
    const version = this.lastVersion;
    return () => {
      this.tables = saved;
      this.lastVersion = version;
    };
  }

  static etag(row: Row): string {
    return `W/"${String(row.versionnumber)}"`;
  }

  private key(set: string): string {
    const definition = this.definition(set);
    if (!definition) throw new Error(`the stand-in has no entity set ${set}`);
    return definition.primaryKey;
  }

  private table(set: string): Map<string, Row> {
    this.key(set);
    let table = this.tables.get(set);
    if (!table) this.tables.set(set, (table = new Map()));
    return table;
  }

  private nextVersion(): bigint {
    this.lastVersion += 1n;
    return this.lastVersion;
  }
}
