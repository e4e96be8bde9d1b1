/** Service Bus queue names. The Bicep in infra/ creates exactly these. */
export const QUEUES = {
  proposals: 'project-invoice-proposals',
  actuals: 'project-actuals',
  accountingUpdates: 'actuals-accounting-updates',
  /** The app's own: "import this proposal now" (the import fast path, functions/importProposal.ts). */
  importRequests: 'import-requests',
} as const;

/** App setting that holds the Service Bus connection (string or identity-based `__` settings). */
export const SERVICE_BUS_CONNECTION = 'ServiceBusConnection';
