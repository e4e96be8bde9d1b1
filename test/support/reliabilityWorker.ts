/**
 * A pipeline step in a process of its own, for the reliability tests
 * (test/reliability/*): several of these run at once against the same Azurite
 * tables, and some are killed with SIGKILL part-way through.
 *
 *   node --import tsx test/support/reliabilityWorker.ts '<WorkerJob as JSON>'
 *
 * Settings come from the environment exactly as in a Function App
 * (AzureWebJobsStorage, TABLE_PREFIX). The worker prints `ready`, waits for a
 * line on stdin (so the parent can start several at the same instant, or keep
 * one warm): `go`, or `go <WorkerJob as JSON>` to give (or replace) the job
 * then. It runs the job, prints `result <json>` and exits 0; on an error it
 * prints `error <message>` and exits 1. A kill point makes it SIGKILL itself:
 * no finally block, no flush, exactly like a host that dies.
 */
import { readFileSync } from 'node:fs';
import type { TableServiceClientOptions } from '@azure/data-tables';
import { readSettings } from '../../shared/config';
import { importFromStaging, type ImportOptions } from '../../shared/pipeline/importFromStaging';
import { importRequested } from '../../shared/pipeline/importRequest';
import { syncInvoiceProposal } from '../../shared/pipeline/syncInvoiceProposal';
import { stageActual, type DeliveryStep } from '../../shared/pipeline/stageActual';

export type { DeliveryStep };
import type { Delivery } from '../../shared/pipeline/inbound';
import { QUEUES } from '../../shared/queues';
import { createRuntime, type Runtime } from '../../shared/runtime';
import { ImportRequestQueue } from './importRequests';

/** A storage pipeline policy (@azure/core-rest-pipeline), as the table clients accept it. */
export type PipelinePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];

export interface KillAtBatch {
  /** Kill before the `index`-th table transaction of the first proposal whose partition key includes this. */
  proposalIncludes?: string;
  index: number;
}

export interface KillAtRequest {
  /** Kill at the n-th storage request (1-based) matching the filters below. */
  n: number;
  /** Kill after the request reached storage and its response came back (the write is applied, the process never learns it). */
  after?: boolean;
  method?: string;
  urlIncludes?: string;
  bodyIncludes?: string;
}

export interface WorkerMessage {
  kind: 'header' | 'actual';
  messageId: string;
  body: unknown;
}

export type WorkerJob =
  | { cmd: 'import'; concurrency?: number; killAtBatch?: KillAtBatch; killAtRequest?: KillAtRequest }
  /** One import request of the fast path (the importProposal function), for one proposal. */
  | { cmd: 'importRequest'; legalEntity: string; proposalId: string; killAtBatch?: KillAtBatch; killAtRequest?: KillAtRequest }
  /** `fastPath`: the import requests a delivery sends are delivered right after it, in this process. */
  | { cmd: 'deliver'; file: string; parallel?: number; killAtRequest?: KillAtRequest; killAtStep?: DeliveryStep; fastPath?: boolean };

const log = { info: () => {}, warn: () => {}, error: (...a: unknown[]) => console.error(...a) };

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is not catchable; this line is never reached.
  throw new Error('unreachable');
}

/** Kills the process at the n-th matching request of `spec()` (read per request: the job may come after start-up). */
function killPolicy(spec: () => KillAtRequest | undefined): PipelinePolicy {
  let seen = 0;
  return {
    name: 'reliabilityKillAtRequest',
    async sendRequest(request, next) {
      const k = spec();
      if (!k) return next(request);
      const body = typeof request.body === 'string' ? request.body : '';
      const matches =
        (!k.method || request.method === k.method) &&
        (!k.urlIncludes || decodeURIComponent(request.url).includes(k.urlIncludes)) &&
        (!k.bodyIncludes || body.includes(k.bodyIncludes));
      if (!matches || ++seen !== k.n) return next(request);
      if (!k.after) die();
      try {
        await next(request);
      } finally {
        die(); // also when storage answered with an error (a 409, say): it was applied all the same
      }
    },
  };
}

async function deliver(rt: Runtime, m: WorkerMessage, killAtStep?: DeliveryStep): Promise<string> {
  const source = m.kind === 'header' ? QUEUES.proposals : QUEUES.actuals;
  const d: Delivery = { source, messageId: m.messageId, body: JSON.stringify(m.body) };
  const onStep = killAtStep && ((step: DeliveryStep) => void (step === killAtStep && die()));
  // Service Bus semantics: a delivery that throws is delivered again.
  for (let attempt = 1; ; attempt++) {
    try {
      return (m.kind === 'header' ? await syncInvoiceProposal(rt, d, log) : await stageActual(rt, d, log, onStep)).kind;
    } catch (e) {
      if (attempt >= 20) throw e;
    }
  }
}

function killAtBatch(k: KillAtBatch | undefined): ImportOptions['beforeBatch'] {
  let killed = false;
  return k
    ? (proposal, index) => {
        if (!killed && index === k.index && (!k.proposalIncludes || proposal.includes(k.proposalIncludes))) {
          killed = true;
          die();
        }
      }
    : undefined;
}

/** The import requests deliveries send here; a `deliver` job with `fastPath` hands them over after each delivery. */
const requests = new ImportRequestQueue({ eager: false });

async function run(job: WorkerJob, rt: Runtime): Promise<unknown> {
  if (job.cmd === 'import')
    return importFromStaging(rt, log, { concurrency: job.concurrency ?? 16, beforeBatch: killAtBatch(job.killAtBatch) });
  if (job.cmd === 'importRequest') {
    const body = JSON.stringify({ legalEntity: job.legalEntity, proposalId: job.proposalId });
    const d: Delivery = { source: QUEUES.importRequests, messageId: `import-${job.proposalId}`, body };
    return (await importRequested(rt, d, log, { beforeBatch: killAtBatch(job.killAtBatch) })).kind;
  }
  const messages = JSON.parse(readFileSync(job.file, 'utf8')) as WorkerMessage[];
  const outcomes: Record<string, number> = {};
  let next = 0;
  const lane = async () => {
    while (next < messages.length) {
      const kind = await deliver(rt, messages[next++]!, job.killAtStep);
      outcomes[kind] = (outcomes[kind] ?? 0) + 1;
      if (job.fastPath) await requests.deliverAll(rt, log);
    }
  };
  await Promise.all(Array.from({ length: job.parallel ?? 1 }, lane));
  return outcomes;
}

async function main() {
  let job = JSON.parse(process.argv[2] ?? '{"cmd":"import"}') as WorkerJob;
  const additionalPolicies = [{ policy: killPolicy(() => job.killAtRequest), position: 'perCall' as const }];
  const rt = await createRuntime(readSettings(process.env), {
    storage: { additionalPolicies },
    importRequests: requests,
    pageChars: Number(process.env.TEST_PAGE_CHARS) || undefined, // as isolatedRuntime reads it (support/reliability.ts)
  });
  process.stdout.write('ready\n');
  const line = await new Promise<string>((resolve) => process.stdin.once('data', (d: Buffer) => resolve(d.toString().trim())));
  if (line.startsWith('go {')) job = JSON.parse(line.slice(3)) as WorkerJob;
  const result = await run(job, rt);
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stdout.write(`error ${(e as Error)?.stack ?? String(e)}\n`.replace(/\n(?!$)/g, ' | '));
  process.exit(1);
});
