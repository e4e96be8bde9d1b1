/**
 * The flows an operator can pause, in words an accountant uses, and the
 * functions each one switches off (docs/operations.md, "Pause and resume").
 *
 * Write-back is `writeBackAccounting` alone. Pausing it leaves every accounting
 * update on queue actuals-accounting-updates, where Service Bus keeps it until
 * the function receives again. `dispatchAccountingUpdates` keeps running: it
 * only moves what a posting could not send from the outbox onto that same queue,
 * so it never touches Dataverse, and the queue is where paused work waits anyway.
 * The posting callback (`recordPosting`) is never paused: Finance is told its
 * posting was recorded, and the updates wait for the write-back.
 */
export const FLOWS = {
  'header-sync': {
    label: 'Invoice proposals from Dataverse (confirmed pro forma invoices)',
    functions: ['syncInvoiceProposal'],
  },
  'actual-sync': {
    label: 'Billed actuals from Dataverse',
    functions: ['syncActuals'],
  },
  import: {
    label: 'Import from staging (proposal lines)',
    // importProposal: the fast path that imports one proposal as soon as its last actual arrives.
    functions: ['importFromStaging', 'importProposal'],
  },
  'write-back': {
    label: 'Accounting back to Dataverse (customer invoice posted)',
    functions: ['writeBackAccounting'],
  },
} as const satisfies Record<string, { label: string; functions: readonly string[] }>;

export type FlowName = keyof typeof FLOWS;
export const FLOW_NAMES = Object.keys(FLOWS) as FlowName[];

export function isFlowName(name: string): name is FlowName {
  return Object.hasOwn(FLOWS, name);
}

/** The flow a function belongs to, if any. */
export function flowOfFunction(fn: string): FlowName | undefined {
  return FLOW_NAMES.find((f) => (FLOWS[f].functions as readonly string[]).includes(fn));
}
