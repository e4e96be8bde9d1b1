import type { TableClient } from '@azure/data-tables';
import type { BilledSalesActual } from '../shared/contracts/actual';
import type { ConfirmedInvoice } from '../shared/contracts/invoiceProposal';
import type { Posting } from '../shared/contracts/posting';
import { formatMoney, sumMoney } from '../shared/contracts/money';
import { planImport } from '../shared/domain/importPlan';
import { decideHeader, type ProposalHeader } from '../shared/domain/proposal';
import { proposalPartition } from '../shared/storage/keys';
import { headerEntity, heldEntity, linePageEntities } from '../shared/storage/proposalRows';
import { registerEntity } from '../shared/storage/actualRegister';
import { headerFlagEntity, stagedActualEntity } from '../shared/storage/staging';
import type { Runtime } from '../shared/runtime';
import { pool, writeBatches } from './support';

/**
 * Synthetic proposals and their billed sales actuals, valid under the product's
 * contracts: amounts sum exactly to the invoice's detail amount.
 */
export interface Proposal {
  invoice: ConfirmedInvoice;
  actuals: BilledSalesActual[];
}

const PRICES = ['50.00', '75.25', '120.10', '99.99', '15.50'];

export function proposal(run: string, n: number, lines: number): Proposal {
  const proposalId = `P${run}-${n.toString().padStart(7, '0')}`;
  if (proposalId.length > 20)
    throw new Error(`fixture proposal id ${proposalId} is longer than the contract's 20 characters; use a shorter run tag`);
  const invoiceId = `inv-${run}-${n}`;
  const actuals: BilledSalesActual[] = Array.from({ length: lines }, (_, i) => {
    const quantity = String((i % 8) + 1);
    const price = PRICES[i % PRICES.length]!;
    const amount = formatMoney(sumMoney(Array.from({ length: Number(quantity) }, () => price)));
    return {
      actualId: `act-${run}-${n}-${i + 1}`,
      legalEntity: 'usmf',
      transactionType: 'BilledSales',
      transactionClassification: i % 3 === 0 ? 'Expense' : 'Time',
      billingType: 'Chargeable',
      invoiceId,
      proposalId,
      projectId: `PRJ-${n % 97}`,
      contractId: `PC-${n % 89}`,
      customerAccount: `US-${n % 83}`,
      quantity,
      price,
      amount,
      currency: 'USD',
      documentDate: `2026-11-${String((i % 28) + 1).padStart(2, '0')}`,
      version: 1,
    };
  });
  const detail = formatMoney(sumMoney(actuals.map((a) => a.amount)));
  const invoice: ConfirmedInvoice = {
    invoiceId,
    proposalId,
    legalEntity: 'usmf',
    contractId: `PC-${n % 89}`,
    customerAccount: `US-${n % 83}`,
    currency: 'USD',
    invoiceDate: '2026-11-20',
    description: 'Benchmark invoice',
    detailAmount: detail,
    totalTax: '0.00',
    totalAmount: detail,
    transactionCount: lines,
    status: 'Confirmed',
    version: 1,
  };
  return { invoice, actuals };
}

export function* proposals(run: string, count: number, lines: number, from = 0): Generator<Proposal> {
  for (let n = from; n < from + count; n++) yield proposal(run, n, lines);
}

const pk = (p: Proposal) => proposalPartition(p.invoice.legalEntity, p.invoice.proposalId);

/** The header as syncInvoiceProposal creates it on first delivery. */
function newHeader(p: Proposal): ProposalHeader {
  const d = decideHeader(undefined, p.invoice);
  if (d.kind !== 'create') throw new Error('unexpected header decision');
  return d.header;
}

/**
 * The state syncInvoiceProposal and syncActuals leave for Import from staging,
 * written straight into the tables in the product's own row shapes (the entity
 * builders the stores use): each proposal's header (AwaitingLines), its
 * "header changed" flag carrying the header as written with that write's ETag,
 * and its staged actuals in the staging shards. The register is left out: the
 * import never reads it.
 */
export async function seedPending(
  rt: Runtime,
  items: Iterable<Proposal>,
  opts: { concurrency?: number; slice?: number } = {},
): Promise<{ proposals: number; actuals: number }> {
  const slice = opts.slice ?? 500; // proposals held in memory at once while seeding
  const concurrency = opts.concurrency ?? 8;
  let batch: Proposal[] = [];
  let proposalsSeeded = 0;
  let actualsSeeded = 0;
  const flush = async () => {
    // Headers first (one partition each, so one request each), as syncInvoiceProposal writes them, then the staging rows.
    const headers = batch.map((p) => ({ p, value: newHeader(p), etag: '' }));
    await pool(headers, concurrency, async (h) => {
      h.etag = (await rt.tables.proposals.createEntity(headerEntity(pk(h.p), h.value))).etag ?? '';
    });
    const staged = headers.flatMap(({ p, value, etag }) => [
      headerFlagEntity(p.invoice.legalEntity, p.invoice.proposalId, p.invoice.version, etag ? { value, etag } : undefined),
      ...p.actuals.map(stagedActualEntity),
    ]);
    await writeBatches(rt.tables.staging, staged, concurrency);
    proposalsSeeded += batch.length;
    actualsSeeded += batch.reduce((n, p) => n + p.actuals.length, 0);
    batch = [];
  };
  for (const p of items) {
    batch.push(p);
    if (batch.length >= slice) await flush();
  }
  if (batch.length) await flush();
  return { proposals: proposalsSeeded, actuals: actualsSeeded };
}

/**
 * History: proposals the import already turned into lines, as it leaves them —
 * header LinesCreated with its active build, the held marker and one line row
 * per actual (which carries the actual: no parked row), staged rows gone. Shapes come from the product's planImport
 * and entity builders. With `register`, the actuals' register rows too.
 */
export async function seedProcessed(
  rt: Runtime,
  items: Iterable<Proposal>,
  opts: { concurrency?: number; register?: boolean } = {},
): Promise<number> {
  let actuals = 0;
  let rows: { partitionKey: string; rowKey: string }[] = [];
  let registerRows: { partitionKey: string; rowKey: string }[] = [];
  const flush = async () => {
    await Promise.all([
      writeBatches(rt.tables.proposals, rows, opts.concurrency ?? 8),
      registerRows.length ? writeBatches(rt.tables.actuals, registerRows, opts.concurrency ?? 8) : undefined,
    ]);
    rows = [];
    registerRows = [];
  };
  for (const p of items) {
    const key = pk(p);
    const header = newHeader(p);
    const plan = planImport({ header, known: [], staged: p.actuals });
    if (!plan.header || plan.header.status !== 'LinesCreated') throw new Error(`fixture ${p.invoice.proposalId} would not import`);
    const build = plan.header.activeBuild!;
    rows.push(headerEntity(key, { ...header, ...plan.header }));
    rows.push(heldEntity(key));
    // The lines carry the actuals: an actual on a line has no parked row of its own.
    rows.push(...linePageEntities(key, build, plan.lines));
    if (opts.register) for (const a of p.actuals) registerRows.push(registerEntity(a));
    actuals += p.actuals.length;
    if (rows.length >= 10_000) await flush();
  }
  await flush();
  return actuals;
}

/** Counts rows of a table, optionally of one row-key kind, reading keys only. */
export async function countRows(table: TableClient, filter?: (rowKey: string, partitionKey: string) => boolean): Promise<number> {
  let n = 0;
  for await (const e of table.listEntities<{ rowKey: string; partitionKey: string }>({
    queryOptions: { select: ['PartitionKey', 'RowKey'] },
  })) {
    if (!filter || filter(e.rowKey, e.partitionKey)) n++;
  }
  return n;
}

/** Finance's posting of a proposal: every line, accounting amount equal to the line amount. */
export function postingFor(p: Proposal, overrides: Partial<Posting> = {}): Posting {
  return {
    customerInvoiceId: `CIV-${p.invoice.proposalId}`,
    voucher: `VOU-${p.invoice.proposalId}`,
    accountingDate: '2026-11-21',
    accountingCurrency: p.invoice.currency,
    exchangeRate: '1',
    lines: p.actuals.map((a) => ({ actualId: a.actualId, accountingAmount: a.amount, salesTaxAmount: '0.00' })),
    ...overrides,
  };
}
