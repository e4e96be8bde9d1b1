import { describe, expect, it } from 'vitest';
import { readActualMessage } from '../../../shared/contracts/dataverse/actualMessage';
import { readDataverseJson } from '../../../shared/contracts/dataverse/exactJson';
import {
  ACTUAL_ID,
  actualColumns,
  actualCreate,
  actualMarkedAdjusted,
  ADJUSTMENT,
  confirmedInvoiceCreate,
  executionContext,
  INVOICE_ID,
  invalidReason,
  messageText,
  money,
  optionSetValue,
  REFS,
  strippedMessage,
  TRANSACTION,
  wcfDate,
} from '../../support/dataverseMessages';

const fromText = (context: object) => readActualMessage(readDataverseJson(messageText(context)));
const ref = (r: { Id: string; LogicalName: string; Name: string | null }) => ({ id: r.Id, logicalName: r.LogicalName, name: r.Name });

describe('a native actual message', () => {
  it('gives the actual of a Create, option sets named by our contract, lookups left as GUID references', () => {
    expect(fromText(actualCreate())).toEqual({
      kind: 'actual',
      actual: {
        actualId: ACTUAL_ID,
        transactionType: 'BilledSales',
        transactionClassification: 'Time',
        billingType: 'Chargeable',
        amount: '1250.5',
        price: '156.3125',
        quantity: '8',
        documentDate: '2026-11-20',
        versionText: '4711002',
        currencyRef: ref(REFS.currency),
        projectRef: ref(REFS.project),
        contractRef: ref(REFS.contract),
        customerRef: ref(REFS.customer),
        invoiceRef: { id: INVOICE_ID, logicalName: 'invoice', name: 'November' },
        billingStatus: 'CustomerInvoiceCreated',
      },
    });
  });

  it('reads a cost actual without an invoice', () => {
    const reading = fromText(actualCreate({ msdyn_transactiontypecode: optionSetValue(TRANSACTION.Cost), msdyn_invoice: null }));
    expect(reading.kind === 'actual' && reading.actual).toMatchObject({ transactionType: 'Cost' });
    expect(reading.kind === 'actual' && 'invoiceRef' in reading.actual).toBe(false);
  });

  it('reports an Update that only marks the actual Adjusted as an adjustment, not a new actual', () => {
    expect(fromText(actualMarkedAdjusted())).toEqual({ kind: 'adjustment', actualId: ACTUAL_ID, adjustmentStatus: 'Adjusted' });
  });

  it('treats an Update that changes the amount as a whole actual, even if it also marks adjustment', () => {
    const update = executionContext({
      message: 'Update',
      entity: 'msdyn_actual',
      id: ACTUAL_ID,
      target: { msdyn_amount: money(1000), msdyn_adjustmentstatus: optionSetValue(ADJUSTMENT.InProcess) },
      postImage: actualColumns({ msdyn_amount: money(1250.5) }),
    });
    const reading = fromText(update);
    expect(reading.kind === 'actual' && reading.actual).toMatchObject({ amount: '1000', adjustmentStatus: 'InProcess' });
  });

  it('asks for the record from the Web API when the message was stripped for size', () => {
    expect(fromText(strippedMessage('msdyn_actual', ACTUAL_ID, 'Create'))).toEqual({
      kind: 'stripped',
      entity: 'msdyn_actual',
      id: ACTUAL_ID,
    });
  });
});

describe('a native actual message that cannot be read', () => {
  const invalid = (context: object) => invalidReason(fromText(context));

  it('names a malformed /Date()', () => {
    expect(invalid(actualCreate({ msdyn_documentdate: '/Date(2026-11-20)/' }))).toBe(
      'msdyn_documentdate: malformed /Date(): "/Date(2026-11-20)/"',
    );
  });

  it('names a date-only column that carries a time of day', () => {
    expect(invalid(actualCreate({ msdyn_documentdate: wcfDate('2026-11-19T23:00:00Z') }))).toMatch(
      /^msdyn_documentdate: carries a time of day/,
    );
  });

  it.each([
    ['msdyn_transactiontypecode', 192350001],
    ['msdyn_transactionclassification', 5],
    ['msdyn_billingtype', 192350009],
    ['msdyn_adjustmentstatus', 192350003],
    ['msdyn_billingstatus', 1],
  ])('names an unknown option-set value in %s', (column, code) => {
    expect(invalid(actualCreate({ [column]: optionSetValue(code) }))).toBe(`${column}: has unknown option-set value ${code}`);
  });

  it('names the missing invoice of a Billed Sales actual', () => {
    expect(invalid(actualCreate({ msdyn_invoice: null }))).toBe('msdyn_invoice: is empty');
  });

  it('names another table on the actuals queue', () => {
    expect(invalid(confirmedInvoiceCreate())).toBe('PrimaryEntityName: "invoice" is not handled here; expected msdyn_actual');
  });

  it('names another message', () => {
    expect(invalid(executionContext({ message: 'Assign', entity: 'msdyn_actual', id: ACTUAL_ID }))).toBe(
      'MessageName: "Assign" is not handled; expected Create or Update',
    );
  });
});
