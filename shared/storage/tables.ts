import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { Settings } from '../config';

/** Azurite's fixed development account (public, documented, not a secret). */
const DEVELOPMENT_STORAGE =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
  'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
  'TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

export const TABLE_NAMES = [
  'proposals',
  'staging',
  'actuals',
  'quarantine',
  'outbox',
  'webhookIds',
  'localOutbound',
  'localMessages',
  'localDeadLetters',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];
export type Tables = Record<TableName, TableClient>;

export function storageConnectionString(s: Settings): string | undefined {
  const conn = s.AzureWebJobsStorage;
  if (!conn) return undefined;
  return /^UseDevelopmentStorage=true/i.test(conn.trim()) ? DEVELOPMENT_STORAGE : conn;
}

function identityCredential(s: Settings): TokenCredential {
  const clientId = s.AzureWebJobsStorage__clientId;
  if (s.AzureWebJobsStorage__credential === 'managedidentity') {
    return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
  }
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}

/**
 * One client per table. A connection string (Azurite locally) or, in Azure, the
 * managed identity named by the AzureWebJobsStorage__* settings.
 */
export function createTables(s: Settings, options: TableServiceClientOptions = {}): Tables {
  const conn = storageConnectionString(s);
  const make = (name: TableName): TableClient => {
    const table = `${s.TABLE_PREFIX}${name}`;
    if (conn) return TableClient.fromConnectionString(conn, table, { ...options, allowInsecureConnection: true });
    const url = s.AzureWebJobsStorage__tableServiceUri ?? `https://${s.AzureWebJobsStorage__accountName}.table.core.windows.net`;
    return new TableClient(url, table, identityCredential(s), options);
  };
  return Object.fromEntries(TABLE_NAMES.map((n) => [n, make(n)])) as Tables;
}

/** Creates any missing table; safe to call from every instance at start-up. */
export async function ensureTables(tables: Tables): Promise<void> {
  await Promise.all(Object.values(tables).map((t) => t.createTable()));
}
