import { ConfigurationError } from '../config';

/** Where the Web API is, and whether a request there needs a token. */
export interface DataverseEndpoint {
  /** The environment URL as configured, without a trailing slash: https://contoso.crm.dynamics.com */
  serverUrl: string;
  /** The scope of its tokens ("{DATAVERSE_URL}/.default"), or null for a local stand-in that takes none. */
  tokenScope: string | null;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Reads DATAVERSE_URL. An https URL is a real environment and gets a token
 * for `{url}/.default`. Plain http is accepted only on a loopback address (the
 * local stand-in): a bearer token must never travel unencrypted, and a
 * remote server that takes none is not Dataverse.
 */
export function dataverseEndpoint(url: string): DataverseEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(
      `DATAVERSE_URL: "${url}" is not a URL; expected the environment URL, e.g. https://contoso.crm.dynamics.com`,
    );
  }
  if (parsed.pathname !== '/' || parsed.search || parsed.hash) {
    throw new ConfigurationError(
      'DATAVERSE_URL: must be the environment URL alone (https://<org>.crm.dynamics.com), without /api/data or a query',
    );
  }
  const serverUrl = parsed.origin;
  if (parsed.protocol === 'https:') return { serverUrl, tokenScope: `${serverUrl}/.default` };
  if (parsed.protocol === 'http:' && LOOPBACK.test(parsed.hostname)) return { serverUrl, tokenScope: null };
  throw new ConfigurationError('DATAVERSE_URL: must be https (plain http only on a loopback address, for the local stand-in)');
}
