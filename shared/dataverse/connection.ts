import { ConfigurationError, settings, type Settings } from '../config';
import { dataverseTokenSource } from './accessToken';
import { ActualUpdates } from './actualUpdates';
import { dataverseEndpoint } from './endpoint';

let current: { url: string; actuals: ActualUpdates } | undefined;

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
    current = { url, actuals: new ActualUpdates({ serverUrl: endpoint.serverUrl, ...(token ? { token } : {}) }) };
  }
  return current.actuals;
}
