import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import type { Settings } from '../config';
import { identityCredential } from '../identity';

/**
 * Azurite's fixed development account (public, documented, not a secret): the
 * one Azurite connection string, for the product, the local host, tests and bench.
 */
export function developmentStorage(tableEndpoint = 'http://127.0.0.1:10002'): string {
  return (
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
    'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
    `TableEndpoint=${tableEndpoint.replace(/\/$/, '')}/devstoreaccount1;`
  );
}

/** `UseDevelopmentStorage=true[;DevelopmentStorageProxyUri=http://host:port]`, or undefined. */
export function developmentStorageEndpoint(connection: string | undefined): string | undefined {
  if (!connection || !/^\s*UseDevelopmentStorage=true/i.test(connection)) return undefined;
  const proxy = /DevelopmentStorageProxyUri=([^;]+)/i.exec(connection)?.[1];
  return proxy ?? 'http://127.0.0.1:10002';
}

export const TABLE_NAMES = [
  'proposals',
  'staging',
  'actuals',
  'quarantine',
  /** Which quarantined messages are open, newest first (the console's count and list). */
  'quarantineOpen',
  'outbox',
  'webhookReceipts',
  /** Which proposals are in which state (the operations lists). */
  'proposalStates',
  /** What operators did, and when (the audit). */
  'operatorActions',
  /** The last run of Import from staging, per trigger. */
  'importRuns',
  /** Stand-in for the outbound queue when no Service Bus is configured (local runs). */
  'localOutbound',
  /** Which flows an operator paused, since when and by whom (shared/operations). */
  'flowPauses',
  /** Stand-in for the AzureWebJobs.<function>.Disabled app settings, read live by the local host. */
  'localTriggerSwitches',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];
export type Tables = Record<TableName, TableClient>;

export function storageConnectionString(s: Settings): string | undefined {
  const endpoint = developmentStorageEndpoint(s.AzureWebJobsStorage);
  return endpoint ? developmentStorage(endpoint) : s.AzureWebJobsStorage;
}

/**
 * One client per table. A connection string (Azurite locally) or, in Azure, the
 * managed identity named by the AzureWebJobsStorage__* settings.
 */
export function tableClient(s: Settings, name: string, options: TableServiceClientOptions = {}): TableClient {
  const conn = storageConnectionString(s);
  const table = `${s.TABLE_PREFIX}${name}`;
  if (conn) return TableClient.fromConnectionString(conn, table, { ...options, allowInsecureConnection: true });
  const url = s.AzureWebJobsStorage__tableServiceUri ?? `https://${s.AzureWebJobsStorage__accountName}.table.core.windows.net`;
  return new TableClient(url, table, identityCredential(s, 'AzureWebJobsStorage'), options);
}

export function createTables(s: Settings, options: TableServiceClientOptions = {}): Tables {
  return Object.fromEntries(TABLE_NAMES.map((n) => [n, tableClient(s, n, options)])) as Tables;
}

/** Creates any missing table; safe to call from every instance at start-up. */
export async function ensureTables(tables: Record<string, TableClient>): Promise<void> {
  await Promise.all(Object.values(tables).map((t) => t.createTable()));
}
