import type * as ServiceBusSdk from '@azure/service-bus';

/**
 * `@azure/service-bus`, loaded by the first client that needs it rather than
 * with the app: a tenth of a second of start-up that a process without Service
 * Bus (Azurite locally, most tests, every reliability worker) never needs.
 */
export function serviceBusSdk(): typeof ServiceBusSdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- on first use only, as said above
  return require('@azure/service-bus') as typeof ServiceBusSdk;
}
