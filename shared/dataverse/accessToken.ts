import { identityCredential } from '../identity';
import type { Settings } from '../config';
import type { DataverseEndpoint } from './endpoint';

/** What dynamics-web-api calls before every request (its onTokenRefresh); undefined sends none. */
export type TokenSource = () => Promise<string>;

/**
 * The app's token for Dataverse: from its managed identity in Azure
 * (DATAVERSE__credential=managedidentity, DATAVERSE__clientId), otherwise the
 * default chain (a developer's sign-in). @azure/identity caches the token and
 * renews it before it expires, so asking per request costs nothing.
 * The local stand-in takes no token.
 */
export function dataverseTokenSource(s: Settings, endpoint: DataverseEndpoint): TokenSource | undefined {
  const scope = endpoint.tokenScope;
  if (!scope) return undefined;
  const credential = identityCredential(s, 'DATAVERSE');
  return async () => {
    const token = await credential.getToken(scope);
    if (!token) throw new Error(`no token for ${scope} from the app identity`);
    return token.token;
  };
}
