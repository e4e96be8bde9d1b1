import { describe, expect, it } from 'vitest';
import { actualSchema, isBilledSales } from '../../../shared/contracts/actual';
import { actual, GUID } from '../support/domain';
import { parseWith } from '../support/contracts';

/** Real GUIDs (hex only), which Dataverse compares case-insensitively. */
const ACTUAL = GUID(7, 'ac7ac7ac');
const INVOICE = GUID(1, 'b1b1b1b1');

const parse = parseWith(actualSchema);

describe('actualSchema: an actual from Dataverse', () => {
  it('accepts the builders actual as it is', () => {
    expect(parse(actual())).toEqual({ ok: true, value: actual() });
  });

  it('identifies an actual by its normalised id, and stores the legal entity lower case', () => {
    const sent = actual({ actualId: `{${ACTUAL.toUpperCase()}}`, invoiceId: INVOICE.toUpperCase(), legalEntity: 'USMF' });
    expect(parse(sent)).toMatchObject({ ok: true, value: { actualId: ACTUAL, invoiceId: INVOICE, legalEntity: 'usmf' } });
  });

  it.each([
    [192350006, 'BilledSales'],
    ['192350006', 'BilledSales'],
    [192350000, 'Cost'],
  ] as const)('reads the Dataverse option-set code %j as %s', (code, name) => {
    const sent = { ...actual(), transactionType: code };
    expect(parse(sent)).toMatchObject({ ok: true, value: { transactionType: name } });
  });

  it('refuses an unknown option-set code, naming the field and the names it allows', () => {
    expect(parse({ ...actual(), billingType: 42 })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^billingType: must be one of Chargeable/),
    });
  });

  it.each(['invoiceId', 'proposalId'] as const)('requires %s of a billed sales actual, also when sent as null', (field) => {
    expect(parse({ ...actual(), [field]: undefined })).toEqual({
      ok: false,
      reason: `${field}: is required when transactionType is BilledSales`,
    });
    expect(parse({ ...actual(), [field]: null })).toEqual({
      ok: false,
      reason: `${field}: is required when transactionType is BilledSales`,
    });
  });

  it('does not require an invoice or proposal of an actual that is not billed sales', () => {
    const result = parse({ ...actual({ transactionType: 'Cost' }), invoiceId: null, proposalId: null, quantity: null });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value).not.toHaveProperty('proposalId');
      expect(isBilledSales(result.value)).toBe(false);
    }
  });
});
