import { decideHeader } from '../domain/proposal';
import { withOptimisticRetry } from '../storage/conditions';
import { proposalPartition } from '../storage/keys';
import type { Written } from '../storage/proposals';
import type { HeaderSnapshot } from '../storage/staging';
import type { Logger, Runtime } from '../runtime';
import { quarantine, type Delivery, type Outcome } from './inbound';
import { requestImport } from './importRequest';
import { readConfirmedInvoice } from './nativeInbound';

/**
 * syncInvoiceProposal: a confirmed pro forma invoice (our contract, or
 * Dataverse's own invoice message turned into it) becomes (or updates) its
 * proposal header. Evaluating lines is left to Import from staging, which a
 * staging flag asks to look at this proposal again (and, with the fast path on,
 * an import request at once, in case the header is the last thing it waited for).
 */
export async function syncInvoiceProposal(rt: Runtime, d: Delivery, log: Logger): Promise<Outcome> {
  const parsed = await readConfirmedInvoice(rt, d, log);
  if (!parsed.ok) return parsed.outcome;
  const invoice = parsed.value;
  const pk = proposalPartition(invoice.legalEntity, invoice.proposalId);
  const name = `proposal ${invoice.legalEntity}/${invoice.proposalId} v${invoice.version}`;

  // First delivery is the common case: try to create, and read only when the header exists.
  let written: HeaderSnapshot | undefined;
  const decision = await withOptimisticRetry(name, async (attempt) => {
    const stored = attempt > 1 ? await rt.proposals.header(pk) : undefined;
    const decision = decideHeader(stored?.value, invoice);
    let write: Written | undefined;
    if (decision.kind === 'create') write = await rt.proposals.createHeader(pk, decision.header);
    if (decision.kind === 'update') write = await rt.proposals.replaceHeader(pk, stored!, decision.header);
    written = write?.etag ? { value: write.value, etag: write.etag } : undefined;
    return decision;
  });

  switch (decision.kind) {
    case 'stale':
      log.warn(`${name} ignored: stale, version ${decision.storedVersion} is stored`);
      return { kind: 'stale', detail: `version ${decision.storedVersion} is stored` };
    case 'reject':
      return quarantine(rt, d, decision.reason, log);
    case 'duplicate':
      // A repeat may follow a crash between the header write and the flag: flag again (idempotent).
      await rt.staging.flagHeader(invoice.legalEntity, invoice.proposalId, invoice.version);
      await requestImport(rt, invoice.legalEntity, invoice.proposalId, log);
      return { kind: 'duplicate', detail: `${name} already stored` };
    case 'create':
    case 'update':
      // The flag carries the header as written, so the import need not read it again (see StagingStore).
      await rt.staging.flagHeader(invoice.legalEntity, invoice.proposalId, invoice.version, written);
      await requestImport(rt, invoice.legalEntity, invoice.proposalId, log);
      log.info(`${name} ${decision.kind === 'create' ? 'created' : 'updated'}`);
      return { kind: 'applied', detail: `${name} ${decision.kind}d` };
  }
}
