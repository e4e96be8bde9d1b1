import type { z } from 'zod';
import { actualSchema, type Actual } from '../contracts/actual';
import { jsonPayload } from '../contracts/common';
import { readActualMessage, type ActualMessageReading } from '../contracts/dataverse/actualMessage';
import { AttributeProblem } from '../contracts/dataverse/attributeValues';
import { readDataverseJson } from '../contracts/dataverse/exactJson';
import { readInvoiceMessage, type InvoiceMessageReading } from '../contracts/dataverse/invoiceMessage';
import type { Stripped } from '../contracts/dataverse/recordMessage';
import { isRemoteExecutionContext } from '../contracts/dataverse/remoteExecutionContext';
import { confirmedInvoiceSchema, type ConfirmedInvoice } from '../contracts/invoiceProposal';
import type { DataverseLookups } from '../dataverse/lookups';
import type { Logger, Runtime } from '../runtime';
import { checkContract, quarantine, type Delivery, type Outcome } from './inbound';
import { ACTUAL_SOURCES, actualCandidate, confirmedInvoiceCandidate, INVOICE_SOURCES, type ContractCandidate } from './nativeLookups';

export type Inbound<T> = { ok: true; value: T } | { ok: false; outcome: Outcome };

/**
 * The confirmed invoice a delivery on project-invoice-proposals carries: our
 * own contract, or Dataverse's own message (a RemoteExecutionContext, told
 * apart by its shape) turned into exactly that contract. Either way the
 * result has passed confirmedInvoiceSchema, so the rules after it cannot tell
 * where it came from.
 */
export async function readConfirmedInvoice(rt: Runtime, d: Delivery, log: Logger): Promise<Inbound<ConfirmedInvoice>> {
  return readInbound(rt, d, log, confirmedInvoiceSchema, async (value, lookups) => {
    const reading = await unstripped(readInvoiceMessage(value), lookups, value, readInvoiceMessage);
    if (reading.kind === 'invalid') return { problem: reading.reason };
    if (reading.kind === 'stripped') return { problem: STILL_STRIPPED };
    if (reading.kind === 'ignored') return { ignored: `invoice ${reading.invoiceId}: ${reading.reason}` };
    return { candidate: await confirmedInvoiceCandidate(reading.invoice, lookups), sources: INVOICE_SOURCES };
  });
}

/** The actual a delivery on project-actuals carries, from our own contract or from Dataverse's message. */
export async function readActual(rt: Runtime, d: Delivery, log: Logger): Promise<Inbound<Actual>> {
  return readInbound(rt, d, log, actualSchema, async (value, lookups) => {
    const reading: ActualMessageReading = await unstripped(readActualMessage(value), lookups, value, readActualMessage);
    if (reading.kind === 'invalid') return { problem: reading.reason };
    if (reading.kind === 'stripped') return { problem: STILL_STRIPPED };
    if (reading.kind === 'adjustment') {
      return {
        ignored: `msdyn_actual ${reading.actualId} marked ${reading.adjustmentStatus} after a correction: no change to the proposal it is on`,
      };
    }
    return { candidate: await actualCandidate(reading.actual, lookups), sources: ACTUAL_SOURCES };
  });
}

/** Cannot happen (the record read back is the Target), but is a reason rather than a crash if it does. */
const STILL_STRIPPED = 'PrimaryEntityId: the record read from the Web API gave no columns';

type NativeResult = { problem: string } | { ignored: string } | { candidate: ContractCandidate; sources: Readonly<Record<string, string>> };

async function readInbound<S extends z.ZodType>(
  rt: Runtime,
  d: Delivery,
  log: Logger,
  schema: S,
  readNative: (value: unknown, lookups: DataverseLookups) => Promise<NativeResult>,
): Promise<Inbound<z.infer<S>>> {
  const json = jsonPayload(d.body);
  if (!json.ok) return { ok: false, outcome: await quarantine(rt, d, json.reason, log) };
  if (!isRemoteExecutionContext(json.value)) return checkContract(rt, d, schema, json.value, log);

  const lookups = rt.dataverse?.();
  if (!lookups) {
    const reason =
      'a native Dataverse message (RemoteExecutionContext) needs DATAVERSE_URL to resolve its lookups (currency, customer, contract, legal entity, billed sales actuals); set DATAVERSE_URL, then replay it';
    return { ok: false, outcome: await quarantine(rt, d, reason, log) };
  }
  let result: NativeResult;
  try {
    result = await readNative(exactJson(d.body, json.value), lookups);
  } catch (e) {
    if (!(e instanceof AttributeProblem)) throw e; // transient: Service Bus redelivers
    result = { problem: e.message };
  }
  if ('problem' in result) return { ok: false, outcome: await quarantine(rt, d, result.problem, log) };
  if ('ignored' in result) {
    log.info(`message ${d.messageId ?? '(no id)'} from ${d.source} completed without change: ${result.ignored}`);
    return { ok: false, outcome: { kind: 'ignored', detail: result.ignored } };
  }
  const parsed = schema.safeParse(result.candidate);
  if (parsed.success) return { ok: true, value: parsed.data as z.infer<S> };
  const sources = result.sources;
  const reason = parsed.error.issues
    .map((i) => {
      const field = i.path.length ? i.path.join('.') : 'body';
      const source = sources[String(i.path[0])];
      return `${field}${source ? ` (from ${source})` : ''}: ${i.message}`;
    })
    .join('; ');
  return { ok: false, outcome: await quarantine(rt, d, reason, log) };
}

/** The message read again from its text without rounding a number (Money, versionnumber); an already-parsed body is taken as it is. */
function exactJson(body: unknown, parsed: unknown): unknown {
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return parsed;
  return readDataverseJson(body.toString());
}

/**
 * A message stripped for size (no Target, no images) is read again from the
 * record itself, through the Web API, and decoded as if it had carried it.
 */
async function unstripped<R extends InvoiceMessageReading | ActualMessageReading>(
  reading: R,
  lookups: DataverseLookups,
  value: unknown,
  read: (value: unknown) => R,
): Promise<R> {
  if (reading.kind !== 'stripped') return reading;
  const { entity, id } = reading as Stripped;
  const attributes = await lookups.strippedRecord(entity, id);
  if (!attributes)
    throw new AttributeProblem('PrimaryEntityId', `${entity} ${id} is no longer in Dataverse (404), so there is nothing to read`);
  const target = { LogicalName: entity, Id: id, Attributes: attributes };
  return read({ ...(value as object), InputParameters: [{ key: 'Target', value: target }], PostEntityImages: [] });
}
