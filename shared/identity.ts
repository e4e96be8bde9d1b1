import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { Settings } from './config';

/** The connections that may use the app's identity, by app-setting prefix (the Functions host's convention). */
export type IdentityConnection = 'AzureWebJobsStorage' | 'ServiceBusConnection' | 'DATAVERSE' | 'OPS_ARM';

/**
 * The credential of an identity-based connection, from `<connection>__credential`
 * and `<connection>__clientId`, read as the Functions host reads them, so the
 * app's own clients sign in as the host's triggers do: `managedidentity` means
 * the managed identity only (the user-assigned one when a client id is given);
 * otherwise the default chain, which finds a developer's sign-in locally.
 */
export function identityCredential(s: Settings, connection: IdentityConnection): TokenCredential {
  const clientId = s[`${connection}__clientId`];
  if (s[`${connection}__credential`] === 'managedidentity') return new ManagedIdentityCredential(clientId ? { clientId } : {});
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}
