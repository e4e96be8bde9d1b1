/**
 * Shared machinery of the reliability tests (test/reliability/*): delivering
 * messages the way Service Bus does, reading the whole stored state back in a
 * comparable form, checking the "never lose or double a line" invariants, and
 * running pipeline steps in child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import type { Actual } from '../../shared/contracts/actual';
import type { ConfirmedInvoice } from '../../shared/contracts/invoiceProposal';
import { formatMoney, parseMoney, sumMoney } from '../../shared/contracts/money';
import { importFromStaging, type ImportOptions, type ImportSummary } from '../../shared/pipeline/importFromStaging';
import type { Delivery, Outcome } from '../../shared/pipeline/inbound';
import { readActual, readProposal } from '../../shared/pipeline/readModels';
import { syncInvoiceProposal } from '../../shared/pipeline/syncInvoiceProposal';
import { stageActual, stageActuals, type StepHook } from '../../shared/pipeline/stageActual';
import { actualSchema } from '../../shared/contracts/actual';
import { QUEUES } from '../../shared/queues';
import { readSettings } from '../../shared/config';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../shared/runtime';
import type { TableName } from '../../shared/storage/tables';
import type { WorkerJob, WorkerMessage } from './reliabilityWorker';
import { isHeaderRow } from '../../shared/storage/proposalRows';
import { importRequestQueue } from './importRequests';

export const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/* ------------------------------------------------------------------ messages */

/**
 * A message as the test means it. `copy` tells apart two messages with the same
 * name but other content (a same-version conflict); `spelling` is how one
 * delivery of it is written (GUID case, braces, nulls), which must not matter.
 */
export type Message = ({ kind: 'header'; body: ConfirmedInvoice } | { kind: 'actual'; body: Actual }) & { copy?: string };
export type Spelling = 'plain' | 'upper' | 'braces' | 'nulls';

export const headerMessage = (body: ConfirmedInvoice): Message => ({ kind: 'header', body });
export const actualMessage = (body: Actual): Message => ({ kind: 'actual', body });

/** "H usmf/P1@2" or "A P1-a3@1": a message as a delivery script shows it. */
export function messageName(m: Message): string {
  const copy = m.copy ? `#${m.copy}` : '';
  return m.kind === 'header'
    ? `H ${m.body.legalEntity}/${m.body.proposalId}@${m.body.version}${copy}`
    : `A ${m.body.actualId}@${m.body.version}${copy}`;
}

/** The body of one delivery, spelled as Dataverse or Power Automate might: the same message whichever. */
export function spelled(body: object, spelling: Spelling = 'plain'): object {
  const b = body as Record<string, unknown>;
  // Only a GUID may change its spelling: any other id is exact, and upper-cased would be another actual.
  const id =
    typeof b.actualId === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(b.actualId)
      ? b.actualId
      : undefined;
  switch (spelling) {
    case 'upper':
      return id ? { ...b, actualId: id.toUpperCase() } : b;
    case 'braces':
      return id ? { ...b, actualId: `{${id.toUpperCase()}}` } : b;
    case 'nulls':
      return { taskId: null, unit: null, description: null, correctsProposalId: null, ...b };
    default:
      return b;
  }
}

/** The Service Bus message id: the same for every copy of one message, as a redelivery keeps it. */
export const messageId = (m: Message) => messageName(m).replace(/\s/g, ':');

/**
 * One delivery as the Functions host hands it over: the JSON text of the body. `onStep` runs between a sync's
 * steps. With the import fast path on (the runtime has an ImportRequestQueue), the import requests pending
 * after it are delivered right away, as if its window had just closed.
 */
export async function deliver(rt: Runtime, m: Message, options: { onStep?: StepHook; spelling?: Spelling } = {}): Promise<Outcome> {
  const d: Delivery = {
    source: m.kind === 'header' ? QUEUES.proposals : QUEUES.actuals,
    messageId: messageId(m),
    body: JSON.stringify(spelled(m.body, options.spelling)),
  };
  const outcome = m.kind === 'header' ? await syncInvoiceProposal(rt, d, quiet) : await stageActual(rt, d, quiet, options.onStep);
  await importRequestQueue(rt)?.deliverAll(rt, quiet);
  return outcome;
}

/**
 * Actual messages received together, delivered as the Functions host hands them to syncActuals (cardinality
 * 'many'): one invocation with all of them. Then the import requests pending after it, as `deliver` does.
 */
export async function deliverBatch(
  rt: Runtime,
  sends: readonly { message: Message; spelling?: Spelling }[],
  options: { onStep?: StepHook } = {},
): Promise<Outcome[]> {
  const deliveries: Delivery[] = sends.map(({ message, spelling }) => ({
    source: QUEUES.actuals,
    messageId: messageId(message),
    body: JSON.stringify(spelled(message.body, spelling)),
  }));
  const outcomes = await stageActuals(rt, deliveries, quiet, options.onStep);
  await importRequestQueue(rt)?.deliverAll(rt, quiet);
  return outcomes;
}

/**
 * Service Bus semantics for a failing delivery: a thrown error means the
 * message is delivered again (here: at once), until it completes.
 */
export async function deliverUntilCompleted(
  rt: Runtime,
  m: Message,
  maxDeliveries = 50,
): Promise<{ outcome: Outcome; deliveries: number }> {
  for (let n = 1; ; n++) {
    try {
      return { outcome: await deliver(rt, m), deliveries: n };
    } catch (e) {
      if (n >= maxDeliveries) throw e;
    }
  }
}

/** The same for a batch handed to syncActuals in one invocation: a throw means the whole batch is delivered again. */
export async function deliverBatchUntilCompleted(
  rt: Runtime,
  messages: readonly Message[],
  maxDeliveries = 50,
): Promise<{ outcomes: Outcome[]; deliveries: number }> {
  for (let n = 1; ; n++) {
    try {
      return {
        outcomes: await deliverBatch(
          rt,
          messages.map((message) => ({ message })),
        ),
        deliveries: n,
      };
    } catch (e) {
      if (n >= maxDeliveries) throw e;
    }
  }
}

/** A timer run that throws is simply run again on the next tick: run it until one completes. */
export async function importUntilCompleted(
  rt: Runtime,
  options: ImportOptions = {},
  maxRuns = 50,
): Promise<{ summary: ImportSummary; runs: number }> {
  for (let n = 1; ; n++) {
    try {
      return { summary: await importFromStaging(rt, quiet, options), runs: n };
    } catch (e) {
      if (n >= maxRuns) throw e;
    }
  }
}

/** An actual as the contract reads it (normalised id, nulls dropped): what the register stores. */
export const normalisedActual = (a: Actual): Actual => actualSchema.parse(a);

/**
 * Canonical order: headers by legal entity, id and version, then actuals by id
 * (an actual is its id, whatever legal entity a version names) and version.
 * Of two contents of one version the first delivered is kept; `kept` names the
 * content to deliver first, so a run can be compared with the canonical run of
 * the same outcome.
 */
export function canonicalOrder(messages: readonly Message[], kept: ReadonlyMap<string, Actual> = new Map()): Message[] {
  const key = (m: Message) => {
    if (m.kind === 'header')
      return ['0', m.body.legalEntity.toLowerCase(), m.body.proposalId, String(m.body.version).padStart(16, '0')].join('\u0000');
    const a = normalisedActual(m.body);
    const keep = kept.get(a.actualId);
    const first = keep && keep.version === a.version && JSON.stringify(keep) !== JSON.stringify(a) ? '1' : '0';
    return ['1', a.actualId, String(a.version).padStart(16, '0'), first, m.copy ?? ''].join('\u0000');
  };
  return [...messages].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/* ------------------------------------------------------------------ state */

export type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

/**
 * A header's stateSince says when, not what: two runs that agree on every
 * state entered them at different moments. (The state index's own check,
 * test/support/stateIndex.ts, holds the index to it.)
 */
function withoutStateSince(value: unknown): unknown {
  if (value && typeof value === 'object' && 'stateSince' in value) {
    const { stateSince: _since, ...rest } = value as Record<string, unknown>;
    return rest;
  }
  return value;
}

/** Every row of a table (or of some partitions), without ETags and timestamps, `json` parsed, in key order. */
export async function tableRows(rt: Runtime, table: TableName, filter?: string): Promise<Row[]> {
  const out: Row[] = [];
  const entities = rt.tables[table].listEntities<Record<string, unknown>>(filter ? { queryOptions: { filter } } : {});
  for await (const e of entities) {
    const { etag: _etag, timestamp: _timestamp, ...rest } = e as Record<string, unknown>;
    if (typeof rest.json === 'string') rest.json = withoutStateSince(JSON.parse(rest.json));
    out.push(rest as Row);
  }
  return out.sort((a, b) => (a.partitionKey + '\u0000' + a.rowKey < b.partitionKey + '\u0000' + b.rowKey ? -1 : 1));
}

/** The stored state that decides every answer the product gives, raw: what two runs must agree on. */
export interface StateSnapshot {
  proposals: Row[];
  actuals: Row[];
  staging: Row[];
  quarantine: { source: string; reason: string; raw: string }[];
  outbox: Row[];
}

export async function snapshot(rt: Runtime): Promise<StateSnapshot> {
  const [proposals, actuals, staging, outbox, quarantined] = await Promise.all([
    tableRows(rt, 'proposals'),
    tableRows(rt, 'actuals'),
    tableRows(rt, 'staging'),
    tableRows(rt, 'outbox'),
    rt.quarantine.list(),
  ]);
  const quarantine = quarantined.map((q) => ({ source: q.source, reason: q.reason, raw: q.raw })).sort((a, b) => (a.raw < b.raw ? -1 : 1));
  return { proposals, actuals, staging, quarantine, outbox };
}

/** The lines that rows hold: a line row is a page of lines (or one line, if written before pages). */
export function storedLines(rows: readonly Row[]): number {
  return rows.filter((r) => r.rowKey.startsWith('line|')).reduce((n, r) => n + (Array.isArray(r.json) ? r.json.length : 1), 0);
}

/** Line rows that belong to no header's active build (left behind by an interrupted run). */
export function orphanLines(s: StateSnapshot): Row[] {
  const active = new Map<string, string>();
  for (const r of s.proposals) if (isHeaderRow(r.rowKey)) active.set(r.partitionKey, String(r.activeBuild ?? ''));
  return s.proposals.filter((r) => r.rowKey.startsWith('line|') && r.rowKey.split('|')[1] !== active.get(r.partitionKey));
}

/* ------------------------------------------------------------------ invariants */

/** What the message set says each proposal must end up as, computed without the pipeline. */
export interface ExpectedProposal {
  legalEntity: string;
  proposalId: string;
  header: ConfirmedInvoice | undefined;
  /** Latest version of every billed sales actual that names this proposal. */
  actuals: Actual[];
  status: 'LinesCreated' | 'AwaitingLines' | 'Error' | 'WaitingForHeader';
}

function latest<T extends { version: number }>(items: Iterable<[string, T]>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, v] of items) if (!out.has(k) || out.get(k)!.version < v.version) out.set(k, v);
  return out;
}

/**
 * An independent oracle: the final status each proposal must have once every
 * message is in and imported. Actuals by id alone; of two contents of one
 * version the first is kept, so `kept` says which when a run had both.
 */
export function expectedState(
  messages: readonly Message[],
  kept: ReadonlyMap<string, Actual> = new Map(),
): { proposals: Map<string, ExpectedProposal>; actuals: Map<string, Actual> } {
  const pkOf = (le: string, id: string) => `${le.toLowerCase()}\u0000${id}`;
  const headers = latest(
    messages.flatMap((m) =>
      m.kind === 'header' ? [[pkOf(m.body.legalEntity, m.body.proposalId), m.body] as [string, ConfirmedInvoice]] : [],
    ),
  );
  const actuals = latest(
    messages.flatMap((m) =>
      m.kind === 'actual' ? [[normalisedActual(m.body).actualId, normalisedActual(m.body)] as [string, Actual]] : [],
    ),
  );
  for (const [id, a] of kept) if (actuals.get(id)?.version === a.version) actuals.set(id, a);
  const proposals = new Map<string, ExpectedProposal>();
  const entry = (le: string, id: string) => {
    const pk = pkOf(le, id);
    let p = proposals.get(pk);
    if (!p)
      proposals.set(
        pk,
        (p = { legalEntity: le.toLowerCase(), proposalId: id, header: headers.get(pk), actuals: [], status: 'WaitingForHeader' }),
      );
    return p;
  };
  for (const h of headers.values()) entry(h.legalEntity, h.proposalId);
  for (const a of actuals.values()) if (a.transactionType === 'BilledSales') entry(a.legalEntity, a.proposalId!).actuals.push(a);
  for (const p of proposals.values()) {
    const h = p.header;
    if (!h) continue;
    const wrong = p.actuals.some((a) => a.invoiceId !== h.invoiceId || a.currency !== h.currency);
    const n = p.actuals.length;
    p.status = wrong
      ? 'Error'
      : n < h.transactionCount
        ? 'AwaitingLines'
        : n > h.transactionCount || sumMoney(p.actuals.map((a) => a.amount)) !== parseMoney(h.detailAmount)
          ? 'Error'
          : 'LinesCreated';
  }
  return { proposals, actuals };
}

/**
 * The acceptance invariants, read through the read models (GET answers):
 * every proposal has all of its lines or none, lines sum exactly to the
 * detail amount, every billed sales actual is on exactly one line of its own
 * proposal or pending with a reason, and the status is the one the message set
 * implies. Returns a list of violations (empty when all hold).
 */
export async function violations(rt: Runtime, messages: readonly Message[], kept?: ReadonlyMap<string, Actual>): Promise<string[]> {
  const { proposals, actuals } = expectedState(messages, kept);
  const problems: string[] = [];
  const lineOf = new Map<string, { proposal: string; lineNumber: number }[]>();
  const shown = new Map<string, Awaited<ReturnType<typeof readProposal>>>();
  await Promise.all(
    [...proposals.values()].map(async (p) => {
      const name = `${p.legalEntity}/${p.proposalId}`;
      const view = await readProposal(rt, p.legalEntity, p.proposalId);
      shown.set(name, view);
      if (!p.header) {
        if (view) problems.push(`${name}: no header was delivered, yet the proposal exists`);
        return;
      }
      if (!view) return void problems.push(`${name}: header delivered, proposal missing`);
      if (view.version !== p.header.version) problems.push(`${name}: version ${view.version}, expected ${p.header.version}`);
      if (view.status !== p.status) problems.push(`${name}: status ${view.status} (${view.reason}), expected ${p.status}`);
      if (view.lines.length && view.lines.length !== view.transactionCount) {
        problems.push(`${name}: shows ${view.lines.length} of its ${view.transactionCount} lines`);
      }
      if (view.status === 'LinesCreated') {
        const sum = sumMoney(view.lines.map((l) => l.amount));
        if (sum !== parseMoney(view.detailAmount))
          problems.push(`${name}: lines sum to ${formatMoney(sum)}, detailAmount is ${view.detailAmount}`);
        if (view.lines.map((l) => l.lineNumber).join() !== view.lines.map((_, i) => i + 1).join())
          problems.push(`${name}: line numbers are not 1..${view.lines.length}`);
        if (view.reason !== null) problems.push(`${name}: LinesCreated with a reason`);
      } else {
        if (view.lines.length) problems.push(`${name}: status ${view.status} but shows ${view.lines.length} lines`);
        if (!view.reason) problems.push(`${name}: status ${view.status} without a reason`);
      }
      for (const l of view.lines) {
        const list = lineOf.get(l.actualId) ?? [];
        list.push({ proposal: name, lineNumber: l.lineNumber });
        lineOf.set(l.actualId, list);
        const a = actuals.get(l.actualId);
        if (!a) problems.push(`${name}: line ${l.lineNumber} is actual ${l.actualId}, which was never delivered`);
        else if (l.amount !== a.amount)
          problems.push(`${name}: line ${l.lineNumber} has amount ${l.amount}, the latest version of ${l.actualId} says ${a.amount}`);
      }
    }),
  );
  await Promise.all(
    [...actuals.values()].map(async (a) => {
      const le = a.legalEntity.toLowerCase();
      const name = `actual ${le}/${a.actualId}`;
      const view = await readActual(rt, le, a.actualId);
      if (!view) return void problems.push(`${name}: not found`);
      if (view.version !== a.version) problems.push(`${name}: version ${view.version}, expected ${a.version}`);
      const lines = lineOf.get(a.actualId) ?? [];
      if (a.transactionType !== 'BilledSales') {
        if (view.status !== 'NotForInvoice') problems.push(`${name}: ${a.transactionType} actual has status ${view.status}`);
        if (lines.length) problems.push(`${name}: ${a.transactionType} actual is on a proposal line`);
        return;
      }
      const own = `${le}/${a.proposalId}`;
      if (lines.length > 1)
        problems.push(`${name}: on ${lines.length} lines (${lines.map((l) => `${l.proposal}#${l.lineNumber}`).join(', ')})`);
      if (lines.some((l) => l.proposal !== own)) problems.push(`${name}: on a line of another proposal`);
      if (view.status === 'Processed') {
        if (lines.length !== 1 || view.lineNumber !== lines[0]!.lineNumber)
          problems.push(`${name}: Processed with line ${view.lineNumber}, but the proposal shows it on ${lines.length} line(s)`);
      } else if (view.status === 'Pending') {
        if (!view.reason) problems.push(`${name}: Pending without a reason`);
        if (lines.length) problems.push(`${name}: Pending, yet on a line of ${own}`);
      } else problems.push(`${name}: billed sales actual with status ${view.status}`);
      if (shown.get(own)?.status === 'LinesCreated' && view.status !== 'Processed')
        problems.push(`${name}: its proposal has its lines but the actual is ${view.status}`);
    }),
  );
  return problems.sort();
}

/* ------------------------------------------------------------------ runtimes and processes */

/** Settings for a runtime over the shared Azurite with tables of its own. */
export function isolatedEnvironment(prefix = `r${randomBytes(5).toString('hex')}`): Record<string, string> {
  return {
    AzureWebJobsStorage: inject('azuriteConnectionString'),
    TABLE_PREFIX: prefix,
    AZURE_FUNCTIONS_ENVIRONMENT: 'Development',
  };
}

/**
 * Smaller pages of lines for the runtimes of one test and its workers alike (they must agree on the layout):
 * `TEST_PAGE_CHARS` in the environment they share.
 */
export const pageCharsOf = (env: Record<string, string | undefined>) => Number(env.TEST_PAGE_CHARS) || undefined;

/** A runtime of its own (not installed as the process's runtime), so one test can hold several side by side. */
export async function isolatedRuntime(
  options: RuntimeOptions = {},
  env = isolatedEnvironment(),
): Promise<Runtime & { env: Record<string, string> }> {
  const rt = await createRuntime(readSettings(env), { pageChars: pageCharsOf(env), ...options });
  return Object.assign(rt, { env });
}

export async function dropTables(rt: Runtime): Promise<void> {
  await Promise.all(Object.values(rt.tables).map((t) => t.deleteTable().catch(() => {})));
}

const WORKER = resolve(__dirname, 'reliabilityWorker.ts');

export interface WorkerRun {
  child: ChildProcess;
  /** Resolves when the worker has its runtime and waits for `go`. */
  ready: Promise<void>;
  /** Starts the job (the one it was started with, or this one). */
  go(job?: WorkerJob): void;
  /** How the process ended: its result, its error, or the signal that killed it. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; result?: unknown; error?: string; stderr: string }>;
}

/** Starts a worker process (the bundle globalSetup made, or the source under tsx) over the same tables as `env` names. */
export function startWorker(job: WorkerJob | undefined, env: Record<string, string>): WorkerRun {
  const bundled = inject('reliabilityWorkerScript');
  const script = bundled ? [bundled] : ['--import', 'tsx', WORKER];
  const child = spawn(process.execPath, [...script, ...(job ? [JSON.stringify(job)] : [])], {
    cwd: resolve(__dirname, '../..'),
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let onReady: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (stdout.includes('ready\n')) onReady();
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Awaited<WorkerRun['done']>>((resolveDone) => {
    child.once('exit', (code, signal) => {
      const result = /^result (.*)$/m.exec(stdout)?.[1];
      const error = /^error (.*)$/m.exec(stdout)?.[1];
      onReady(); // a worker that died while starting is "ready" to be awaited
      resolveDone({ code, signal, stderr, ...(result ? { result: JSON.parse(result) } : {}), ...(error ? { error } : {}) });
    });
  });
  return {
    child,
    ready,
    go: (job?: WorkerJob) => {
      child.stdin!.write(job ? `go ${JSON.stringify(job)}\n` : 'go\n');
    },
    done,
  };
}

/** Starts workers, waits until all are ready, then starts them at the same instant. */
export async function runWorkersTogether(jobs: WorkerJob[], env: Record<string, string>) {
  const runs = jobs.map((j) => startWorker(j, env));
  await Promise.all(runs.map((r) => r.ready));
  for (const r of runs) r.go();
  return Promise.all(runs.map((r) => r.done));
}

/** Writes messages where a `deliver` worker can read them. */
export function messageFile(messages: readonly Message[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'reliability-'));
  const file = join(dir, 'messages.json');
  const list: WorkerMessage[] = messages.map((m) => ({ kind: m.kind, messageId: messageId(m), body: m.body }));
  writeFileSync(file, JSON.stringify(list));
  return file;
}
