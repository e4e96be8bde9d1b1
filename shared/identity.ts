import type * as Identity from '@azure/identity';
import type { GetTokenOptions, TokenCredential } from '@azure/identity';
import type { Settings } from './config';

/** The connections that may use the app's identity, by app-setting prefix (the Functions host's convention). */
export type IdentityConnection = 'AzureWebJobsStorage' | 'ServiceBusConnection' | 'DATAVERSE' | 'OPS_ARM';

/** A credential whose library is loaded when the first token is asked for (see identityCredential). */
export interface LazyCredential extends TokenCredential {
  /** The credential itself: what the first token request loads. */
  resolve(): Promise<TokenCredential>;
}

/**
 * The credential of an identity-based connection, from `<connection>__credential`
 * and `<connection>__clientId`, read as the Functions host reads them, so the
 * app's own clients sign in as the host's triggers do: `managedidentity` means
 * the managed identity only (the user-assigned one when a client id is given);
 * otherwise the default chain, which finds a developer's sign-in locally.
 *
 * `@azure/identity` is loaded with the first token request, not with the app: it
 * is a tenth of a second of start-up that a process on connection strings
 * (Azurite, every local run and test) never needs, and a cold start in Azure
 * pays only when it signs in.
 */
export function identityCredential(s: Settings, connection: IdentityConnection): LazyCredential {
  const clientId = s[`${connection}__clientId`];
  const managed = s[`${connection}__credential`] === 'managedidentity';
  let credential: Promise<TokenCredential> | undefined;
  const resolve = () =>
    (credential ??= import('@azure/identity').then((identity: typeof Identity) =>
      managed
        ? new identity.ManagedIdentityCredential(clientId ? { clientId } : {})
        : new identity.DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}),
    ));
  return {
    resolve,
    getToken: async (scopes: string | string[], options?: GetTokenOptions) => (await resolve()).getToken(scopes, options),
  };
}
