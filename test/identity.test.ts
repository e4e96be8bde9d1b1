import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../shared/config';
import { identityCredential } from '../shared/identity';

const base = { AzureWebJobsStorage__accountName: 'st1', AZURE_FUNCTIONS_ENVIRONMENT: 'Development' };

describe('one credential builder for storage and Service Bus', () => {
  it('__credential=managedidentity signs in with the managed identity only, for either connection', async () => {
    const s = readSettings({
      ...base,
      AzureWebJobsStorage__credential: 'managedidentity',
      ServiceBusConnection__credential: 'managedidentity',
      ServiceBusConnection__clientId: 'c1',
    });
    expect(await identityCredential(s, 'AzureWebJobsStorage').resolve()).toBeInstanceOf(ManagedIdentityCredential);
    expect(await identityCredential(s, 'ServiceBusConnection').resolve()).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('without it, the default chain (a developer sign-in locally)', async () => {
    const s = readSettings({ ...base, ServiceBusConnection__clientId: 'c1' });
    expect(await identityCredential(s, 'AzureWebJobsStorage').resolve()).toBeInstanceOf(DefaultAzureCredential);
    expect(await identityCredential(s, 'ServiceBusConnection').resolve()).toBeInstanceOf(DefaultAzureCredential);
  });

  it('loads @azure/identity with the first token request, once, and signs in with what it built', async () => {
    const s = readSettings({ ...base, AzureWebJobsStorage__credential: 'managedidentity' });
    const credential = identityCredential(s, 'AzureWebJobsStorage');
    const resolved = await credential.resolve();
    expect(await credential.resolve()).toBe(resolved);
    const asked: unknown[] = [];
    resolved.getToken = async (scopes) => (asked.push(scopes), { token: 't', expiresOnTimestamp: 1 });
    expect(await credential.getToken('https://storage.azure.com/.default')).toEqual({ token: 't', expiresOnTimestamp: 1 });
    expect(asked).toEqual(['https://storage.azure.com/.default']);
  });
});
