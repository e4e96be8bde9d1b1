import { ConfigurationError, settings, type Settings } from '../config';
import { dataverseTokenSource } from './accessToken';
import { ActualUpdates } from './actualUpdates';
import { dataverseEndpoint } from './endpoint';
import { DataverseLookups } from './lookups';
import { ServiceProtectionGate } from './serviceProtection';
import { WebApiReads } from './webApiReads';

/** Every request of this process, reads and writes, waits behind the same Retry-After: the limits count per application user. */
const gate = new ServiceProtectionGate();

let current: { url: string; actuals: ActualUpdates } | undefined;
let lookups: { key: string; lookups: DataverseLookups } | undefined;

/**
 * The process's way to update actuals in Dataverse, built from DATAVERSE_URL
 * on first use (never at module load: registering a function reads no
 * settings). One per process, so that every invocation waits behind the same
 * Retry-After. Without DATAVERSE_URL the write-back must not run at all (it is
 * disabled with AzureWebJobs.writeBackAccounting.Disabled); if it runs anyway,
 * this throws, so Service Bus keeps the message and, in the end,
 * dead-letters it rather than it being completed unwritten.
 */
export function dataverseActuals(s: Settings = settings()): ActualUpdates {
  const url = s.DATAVERSE_URL;
  if (!url) {
    throw new ConfigurationError(
      'DATAVERSE_URL is not set, so accounting updates cannot be written to Dataverse; set it, or set AzureWebJobs.writeBackAccounting.Disabled=true to leave them on the queue',
    );
  }
  if (current?.url !== url) {
    const endpoint = dataverseEndpoint(url);
    const token = dataverseTokenSource(s, endpoint);
    current = { url, actuals: new ActualUpdates({ serverUrl: endpoint.serverUrl, gate, ...(token ? { token } : {}) }) };
  }
  return current.actuals;
}

/**
 * The process's lookups for native inbound messages (one per DATAVERSE_URL and
 * company column, so their caches are shared by every invocation), or
 * undefined without DATAVERSE_URL: native messages then cannot be resolved.
 */
export function dataverseLookups(s: Settings = settings()): DataverseLookups | undefined {
  const url = s.DATAVERSE_URL;
  if (!url) return undefined;
  const key = `${url} ${s.DATAVERSE_CONTRACT_COMPANY_COLUMN}`;
  if (lookups?.key !== key) {
    const endpoint = dataverseEndpoint(url);
    const token = dataverseTokenSource(s, endpoint);
    const reads = new WebApiReads({ serverUrl: endpoint.serverUrl, gate, ...(token ? { token } : {}) });
    lookups = { key, lookups: new DataverseLookups(reads, { contractCompanyColumn: s.DATAVERSE_CONTRACT_COMPANY_COLUMN }) };
  }
  return lookups.lookups;
}
