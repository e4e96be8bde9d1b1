import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../shared/config';
import { identityCredential } from '../shared/identity';

const base = { AzureWebJobsStorage__accountName: 'st1', AZURE_FUNCTIONS_ENVIRONMENT: 'Development' };

describe('one credential builder for storage and Service Bus', () => {
  it('__credential=managedidentity signs in with the managed identity only, for either connection', () => {
    const s = readSettings({
      ...base,
      AzureWebJobsStorage__credential: 'managedidentity',
      ServiceBusConnection__credential: 'managedidentity',
      ServiceBusConnection__clientId: 'c1',
    });
    expect(identityCredential(s, 'AzureWebJobsStorage')).toBeInstanceOf(ManagedIdentityCredential);
    expect(identityCredential(s, 'ServiceBusConnection')).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('without it, the default chain (a developer sign-in locally)', () => {
    const s = readSettings({ ...base, ServiceBusConnection__clientId: 'c1' });
    expect(identityCredential(s, 'AzureWebJobsStorage')).toBeInstanceOf(DefaultAzureCredential);
    expect(identityCredential(s, 'ServiceBusConnection')).toBeInstanceOf(DefaultAzureCredential);
  });
});
