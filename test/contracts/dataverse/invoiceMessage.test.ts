import { describe, expect, it } from 'vitest';
import { readDataverseJson } from '../../../shared/contracts/dataverse/exactJson';
import { readInvoiceMessage } from '../../../shared/contracts/dataverse/invoiceMessage';
import {
  actualCreate,
  confirmedInvoiceCreate,
  executionContext,
  INVOICE_ID,
  invalidReason,
  INVOICE_STATUS,
  invoiceColumns,
  invoiceStatusUpdate,
  messageText,
  money,
  optionSetValue,
  REFS,
  reference,
  strippedMessage,
  XRM_GUID,
} from '../../support/dataverseMessages';

const fromText = (context: object) => readInvoiceMessage(readDataverseJson(messageText(context)));

describe('a native invoice message', () => {
  it('gives the confirmed invoice of a Create, lookups left as GUID references', () => {
    expect(fromText(confirmedInvoiceCreate())).toEqual({
      kind: 'confirmed',
      invoice: {
        proposalId: 'INV-01001',
        invoiceId: INVOICE_ID,
        detailAmount: '1250.5',
        totalTax: '100.04',
        totalAmount: '1350.54',
        invoiceDate: '2026-11-30',
        versionText: '4711001',
        currencyRef: { id: REFS.currency.Id, logicalName: 'transactioncurrency', name: 'US Dollar' },
        customerRef: { id: REFS.customer.Id, logicalName: 'account', name: 'Contoso Ltd' },
        contractRef: { id: REFS.contract.Id, logicalName: 'salesorder', name: 'Contoso implementation' },
        status: 'Confirmed',
        description: 'November time and expenses',
      },
    });
  });

  it('reads the same whether given the message text or an already-parsed object', () => {
    expect(readInvoiceMessage(confirmedInvoiceCreate())).toEqual(fromText(confirmedInvoiceCreate()));
  });

  it('gives the confirmation of an Update that carries only the changed columns, the rest from the post-image', () => {
    const reading = fromText(invoiceStatusUpdate(INVOICE_STATUS.Confirmed));
    expect(reading.kind).toBe('confirmed');
    expect(reading.kind === 'confirmed' && reading.invoice.proposalId).toBe('INV-01001');
  });

  it.each([
    ['Draft', INVOICE_STATUS.Draft],
    ['InReview', INVOICE_STATUS.InReview],
    ['InvoicePaid', INVOICE_STATUS.InvoicePaid],
  ])('ignores a status update to %s, saying why', (name, code) => {
    expect(fromText(invoiceStatusUpdate(code))).toEqual({
      kind: 'ignored',
      invoiceId: INVOICE_ID,
      reason: `msdyn_projectinvoicestatus is ${name}, not Confirmed: nothing to post`,
    });
  });

  it('asks for the record from the Web API when the message was stripped for size', () => {
    expect(fromText(strippedMessage('invoice', INVOICE_ID))).toEqual({ kind: 'stripped', entity: 'invoice', id: INVOICE_ID });
  });

  it('keeps a versionnumber beyond 2^53 exactly when read from the message text', () => {
    const text = messageText(confirmedInvoiceCreate()).replace(/4711001/g, '9007199254740993');
    const reading = readInvoiceMessage(readDataverseJson(text));
    expect(reading.kind === 'confirmed' && reading.invoice.versionText).toBe('9007199254740993');
  });

  it('keeps a 19-digit Money amount exactly when read from the message text', () => {
    const text = messageText(confirmedInvoiceCreate({ totalamount: money(1) })).replace('"Value":1}', '"Value":922337203685477.5807}');
    const reading = readInvoiceMessage(readDataverseJson(text));
    expect(reading.kind === 'confirmed' && reading.invoice.totalAmount).toBe('922337203685477.5807');
  });

  it('takes the RowVersion property when the images do not carry versionnumber', () => {
    const columns = invoiceColumns();
    delete columns.versionnumber;
    const withoutColumn = executionContext({ message: 'Create', entity: 'invoice', id: INVOICE_ID, target: columns, postImage: columns });
    withoutColumn.InputParameters![0]!.value.RowVersion = '4711555';
    const reading = readInvoiceMessage(withoutColumn);
    expect(reading.kind === 'confirmed' && reading.invoice.versionText).toBe('4711555');
  });
});

describe('a native invoice message that cannot be read', () => {
  const invalid = (context: object) => invalidReason(fromText(context));

  it('names a malformed /Date()', () => {
    expect(invalid(confirmedInvoiceCreate({ msdyn_invoicedate: '/Date(30-11-2026)/' }))).toBe(
      'msdyn_invoicedate: malformed /Date(): "/Date(30-11-2026)/"',
    );
  });

  it('names an unknown option-set value', () => {
    expect(invalid(confirmedInvoiceCreate({ msdyn_projectinvoicestatus: optionSetValue(192350009) }))).toBe(
      'msdyn_projectinvoicestatus: has unknown option-set value 192350009',
    );
  });

  it('names another table on the invoice queue', () => {
    expect(invalid(actualCreate())).toBe('PrimaryEntityName: "msdyn_actual" is not handled here; expected invoice');
  });

  it('names another message', () => {
    expect(invalid(executionContext({ message: 'SetState', entity: 'invoice', id: INVOICE_ID, target: {} }))).toBe(
      'MessageName: "SetState" is not handled; expected Create or Update',
    );
  });

  it('names a missing column and what to register when the step has no post-image', () => {
    const update = executionContext({
      message: 'Update',
      entity: 'invoice',
      id: INVOICE_ID,
      target: { msdyn_projectinvoicestatus: optionSetValue(INVOICE_STATUS.Confirmed) },
    });
    expect(invalid(update)).toBe('invoicenumber: is missing (the message has no post-image; register one that includes it)');
  });

  it('names a lookup to the wrong table', () => {
    expect(invalid(confirmedInvoiceCreate({ salesorderid: reference('quote', XRM_GUID(9)) }))).toBe(
      'salesorderid: points to a quote, expected salesorder',
    );
  });

  it('names a Money column sent as something else', () => {
    expect(invalid(confirmedInvoiceCreate({ totaltax: 'lots' }))).toBe('totaltax: is the text "lots", expected a Money');
  });

  it('names a cleared required column', () => {
    expect(invalid(confirmedInvoiceCreate({ invoicenumber: null }))).toBe('invoicenumber: is empty');
  });

  it('names what is not a RemoteExecutionContext at all', () => {
    expect(invalid({ MessageName: 'Create' })).toMatch(/^PrimaryEntityName: /);
  });
});
