import { describe, expect, it } from 'vitest';
import { entityView } from '../../../shared/contracts/dataverse/entityView';
import { readDataverseJson } from '../../../shared/contracts/dataverse/exactJson';
import {
  isRemoteExecutionContext,
  parseRemoteExecutionContext,
  type RemoteExecutionContext,
} from '../../../shared/contracts/dataverse/remoteExecutionContext';
import { actual, invoice } from '../../support/builders';
import {
  confirmedInvoiceCreate,
  executionContext,
  INVOICE_ID,
  invoiceStatusUpdate,
  messageText,
  optionSetValue,
  strippedMessage,
} from '../../support/dataverseMessages';

function context(value: object): RemoteExecutionContext {
  const parsed = parseRemoteExecutionContext(value);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.context;
}

describe('telling a native Dataverse message from our own contracts', () => {
  it('recognises the RemoteExecutionContext by its shape', () => {
    expect(isRemoteExecutionContext(confirmedInvoiceCreate())).toBe(true);
    expect(isRemoteExecutionContext(strippedMessage('invoice', INVOICE_ID))).toBe(true);
    expect(isRemoteExecutionContext(readDataverseJson(messageText(confirmedInvoiceCreate())))).toBe(true);
  });

  it('does not take our own invoice and actual contracts for one', () => {
    expect(isRemoteExecutionContext(invoice())).toBe(false);
    expect(isRemoteExecutionContext(actual())).toBe(false);
    expect(isRemoteExecutionContext(null)).toBe(false);
    expect(isRemoteExecutionContext([confirmedInvoiceCreate()])).toBe(false);
    expect(isRemoteExecutionContext('{"MessageName":"Create"}')).toBe(false);
  });

  it('names the property at fault when the shape is close but wrong', () => {
    const parsed = parseRemoteExecutionContext({
      ...confirmedInvoiceCreate(),
      PostEntityImages: [{ key: 'PostImage', value: { Id: 'x' } }],
    });
    expect(parsed).toMatchObject({ ok: false });
    expect(!parsed.ok && parsed.reason).toMatch(/^PostEntityImages\.0\.value\.LogicalName/);
  });
});

describe('the record a Create/Update describes', () => {
  it('lays the Target over the post-image, the Target winning', () => {
    const view = entityView(context(invoiceStatusUpdate(192350002)));
    expect(view.kind).toBe('record');
    if (view.kind !== 'record') return;
    expect(view.attributes.get('msdyn_projectinvoicestatus')).toEqual(optionSetValue(192350002));
    expect(view.attributes.get('invoicenumber')).toBe('INV-01001');
    expect([...view.changed].sort()).toEqual(['invoiceid', 'modifiedon', 'msdyn_projectinvoicestatus']);
    expect(view.hasPostImage).toBe(true);
  });

  it('reports a message whose InputParameters and images were removed as stripped, to be read from the Web API', () => {
    expect(entityView(context(strippedMessage('invoice', INVOICE_ID.toUpperCase())))).toEqual({
      kind: 'stripped',
      message: 'Update',
      entity: 'invoice',
      id: INVOICE_ID,
    });
  });

  it('takes the MessageMaxSizeExceeded property as stripped even if some data remained', () => {
    expect(entityView(context(confirmedInvoiceCreate()), { messageMaxSizeExceeded: true }).kind).toBe('stripped');
  });

  it('also sees a message with empty or null collections as stripped', () => {
    const emptied = { ...confirmedInvoiceCreate(), InputParameters: null, PostEntityImages: [], PreEntityImages: null };
    expect(entityView(context(emptied)).kind).toBe('stripped');
  });

  it('refuses a message other than Create or Update, naming it', () => {
    const deleted = executionContext({ message: 'Delete', entity: 'invoice', id: INVOICE_ID });
    expect(() => entityView(context(deleted))).toThrow('MessageName: "Delete" is not handled; expected Create or Update');
  });

  it('refuses a Target of another table than the primary one', () => {
    const odd = confirmedInvoiceCreate();
    const target = odd.InputParameters![0]!.value;
    target.LogicalName = 'account';
    expect(() => entityView(context(odd))).toThrow('InputParameters.Target: is account, but PrimaryEntityName is invoice');
  });
});
