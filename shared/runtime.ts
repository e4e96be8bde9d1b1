import type { TableServiceClientOptions } from '@azure/data-tables';
import { settings, type Settings } from './config';
import { dataverseLookups } from './dataverse/connection';
import type { DataverseLookups } from './dataverse/lookups';
import { QUEUES } from './queues';
import { TableOutbound, type AccountingUpdateSender } from './messaging/accountingUpdates';
import { serviceBusClient, ServiceBusOutbound } from './messaging/serviceBus';
import { ServiceBusImportRequests, type ImportRequestSender } from './messaging/importRequests';
import { ActualRegister } from './storage/actualRegister';
import { OutboxIndex } from './storage/outbox';
import { ProposalStore } from './storage/proposals';
import { ProposalStateIndex } from './storage/proposalStates';
import { OperatorActions } from './storage/operatorActions';
import { ImportRuns } from './storage/importRuns';
import { QuarantineStore } from './storage/quarantine';
import { StagingStore } from './storage/staging';
import { WebhookReceipts } from './storage/webhookReceipts';
import { createTables, ensureTables, type Tables } from './storage/tables';

/** What the pipeline steps work with: the stores, the outbound sender and a clock. */
export interface Runtime {
  tables: Tables;
  proposals: ProposalStore;
  states: ProposalStateIndex;
  operatorActions: OperatorActions;
  importRuns: ImportRuns;
  staging: StagingStore;
  register: ActualRegister;
  quarantine: QuarantineStore;
  outbox: OutboxIndex;
  webhookReceipts: WebhookReceipts;
  sender: AccountingUpdateSender;
  /** Only while IMPORT_FAST_PATH is on and a queue can carry them: asks for one proposal's import now. */
  importRequests?: ImportRequestSender;
  /** Only with DATAVERSE_URL: resolves the lookups of native Dataverse messages, built on first use. */
  dataverse?: () => DataverseLookups;
  now: () => Date;
  close: () => Promise<void>;
}

export interface Logger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface RuntimeOptions {
  /** Extra storage pipeline policies (request counting, fault injection in tests). */
  storage?: TableServiceClientOptions;
  sender?: AccountingUpdateSender;
  /** Where import requests go instead of Service Bus (the local host's queue, a test's stand-in); used only while IMPORT_FAST_PATH is on. */
  importRequests?: ImportRequestSender;
  /** Lookups for native messages instead of those DATAVERSE_URL gives (tests). */
  dataverse?: () => DataverseLookups;
  /**
   * Characters of JSON in a page of lines or posted rows (default PAGE_CHARS). Smaller only where a test needs a build
   * to span several transactions; every runtime writing the same tables must use the same.
   */
  pageChars?: number;
}

export async function createRuntime(s: Settings, options: RuntimeOptions = {}): Promise<Runtime> {
  const tables = createTables(s, options.storage);
  await ensureTables(tables);
  const now = () => new Date();
  const states = new ProposalStateIndex(tables.proposalStates);
  const bus = options.sender ? undefined : serviceBusClient(s);
  const sender =
    options.sender ??
    (bus
      ? new ServiceBusOutbound(bus.createSender(QUEUES.accountingUpdates))
      : new TableOutbound(tables.localOutbound, QUEUES.accountingUpdates));
  return {
    tables,
    proposals: new ProposalStore(tables.proposals, states, now, options.pageChars),
    states,
    operatorActions: new OperatorActions(tables.operatorActions),
    importRuns: new ImportRuns(tables.importRuns),
    staging: new StagingStore(tables.staging),
    register: new ActualRegister(tables.actuals),
    quarantine: new QuarantineStore(tables.quarantine, tables.quarantineOpen),
    outbox: new OutboxIndex(tables.outbox),
    webhookReceipts: new WebhookReceipts(tables.webhookReceipts),
    sender,
    ...importRequests(s, options, bus),
    ...nativeLookups(s, options),
    now,
    close: async () => {
      await bus?.close();
    },
  };
}

/** The fast path is off without IMPORT_FAST_PATH, or without a queue to carry the requests: the timer then imports everything. */
function importRequests(s: Settings, options: RuntimeOptions, bus: ReturnType<typeof serviceBusClient>): Pick<Runtime, 'importRequests'> {
  if (!s.IMPORT_FAST_PATH) return {};
  const sender = options.importRequests ?? (bus ? new ServiceBusImportRequests(bus.createSender(QUEUES.importRequests)) : undefined);
  return sender ? { importRequests: sender } : {};
}

/** Nothing changes without DATAVERSE_URL: no lookups, and native messages are quarantined saying so. */
function nativeLookups(s: Settings, options: RuntimeOptions): Pick<Runtime, 'dataverse'> {
  if (options.dataverse) return { dataverse: options.dataverse };
  return s.DATAVERSE_URL ? { dataverse: () => dataverseLookups(s)! } : {};
}

let current: Promise<Runtime> | undefined;

/** The process's runtime, built from the app settings on first use. */
export function runtime(): Promise<Runtime> {
  current ??= createRuntime(settings()).catch((e) => {
    current = undefined; // a failed start (storage down) is retried on the next invocation
    throw e;
  });
  return current;
}

/** Replaces the process's runtime (the local host and tests build their own). */
export function useRuntime(rt: Runtime | undefined): void {
  current = rt ? Promise.resolve(rt) : undefined;
}
