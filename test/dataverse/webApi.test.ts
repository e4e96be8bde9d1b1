import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDataverseSimulator, type DataverseSimulator } from './simulator/server';

const ACTUAL = '6d81597f-0f9f-e711-8122-000d3aa2331c';
const INVOICE = '0a1b2c3d-0000-4000-8000-000000000001';
const MISSING = '99999999-0000-4000-8000-000000000009';

let dv: DataverseSimulator;

beforeEach(async () => {
  dv = await startDataverseSimulator({
    seed: {
      invoices: [{ invoiceid: INVOICE, invoicenumber: 'INV-01001', totalamount: 1350.54 }],
      msdyn_actuals: [{ msdyn_actualid: ACTUAL, msdyn_description: 'Consulting', msdyn_amount: 1250.5, _msdyn_invoice_value: INVOICE }],
      transactioncurrencies: [{ isocurrencycode: 'USD' }, { isocurrencycode: 'EUR' }, { isocurrencycode: 'GBP' }],
      cdm_companies: [{ cdm_companycode: 'USMF', cdm_name: 'Contoso Entertainment System USA' }],
    },
  });
});
afterEach(() => dv.close());

const call = (path: string, init: RequestInit = {}) => fetch(`${dv.apiUrl}${path}`, init);
const patch = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: 'PATCH', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('conditional updates (stand-in for Dataverse)', () => {
  it('updates an existing row with If-Match: * and answers 204', async () => {
    const before = dv.records.row('msdyn_actuals', ACTUAL)!;
    const res = await patch(`msdyn_actuals(${ACTUAL})`, { msdyn_externalreferenceid: 'V-0001' }, { 'If-Match': '*' });
    expect(res.status).toBe(204);
    const after = dv.records.row('msdyn_actuals', ACTUAL)!;
    expect(after.msdyn_externalreferenceid).toBe('V-0001');
    expect(after.versionnumber as bigint).toBeGreaterThan(before.versionnumber as bigint);
  });

  it('answers 404 with the OData error body, creating nothing, when If-Match: * meets a missing row', async () => {
    const res = await patch(`msdyn_actuals(${MISSING})`, { msdyn_externalreferenceid: 'V-0001' }, { 'If-Match': '*' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: '0x80040217', message: `msdyn_actual With Id = ${MISSING} Does Not Exist` } });
    expect(dv.records.row('msdyn_actuals', MISSING)).toBeUndefined();
  });

  it('CREATES the row when a PATCH has no If-Match, as Dataverse upserts', async () => {
    const res = await patch(`msdyn_actuals(${MISSING})`, { msdyn_externalreferenceid: 'V-0001' });
    expect(res.status).toBe(204);
    expect(res.headers.get('OData-EntityId')).toBe(`${dv.apiUrl}msdyn_actuals(${MISSING})`);
    expect(dv.records.row('msdyn_actuals', MISSING)).toMatchObject({ msdyn_externalreferenceid: 'V-0001' });
  });

  it('answers 412 when If-Match names another version, and 204 when it names the current one', async () => {
    const { '@odata.etag': etag } = (await (await call(`msdyn_actuals(${ACTUAL})?$select=msdyn_description`)).json()) as {
      '@odata.etag': string;
    };
    expect(etag).toBe(`W/"${dv.records.row('msdyn_actuals', ACTUAL)!.versionnumber}"`);
    const stale = await patch(`msdyn_actuals(${ACTUAL})`, { msdyn_description: 'x' }, { 'If-Match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toEqual({
      error: { code: '0x80060882', message: "The version of the existing record doesn't match the RowVersion property provided." },
    });
    expect((await patch(`msdyn_actuals(${ACTUAL})`, { msdyn_description: 'x' }, { 'If-Match': etag })).status).toBe(204);
  });

  it('answers 412 to If-None-Match: * on an existing row', async () => {
    const res = await patch(`msdyn_actuals(${ACTUAL})`, { msdyn_description: 'x' }, { 'If-None-Match': '*' });
    expect(res.status).toBe(412);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('A record with matching key values already exists.');
  });

  it('refuses a column the table does not have, naming it', async () => {
    const res = await patch(`msdyn_actuals(${ACTUAL})`, { msdyn_voucher: 'V-1' }, { 'If-Match': '*' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: '0x80060888',
        message: "Could not find a property named 'msdyn_voucher' on type 'Microsoft.Dynamics.CRM.msdyn_actual'.",
      },
    });
  });

  it('returns the row with Prefer: return=representation', async () => {
    const res = await patch(
      `msdyn_actuals(${ACTUAL})?$select=msdyn_externalreferenceid`,
      { msdyn_externalreferenceid: 'V-2' },
      {
        'If-Match': '*',
        Prefer: 'return=representation',
      },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ msdyn_externalreferenceid: 'V-2', msdyn_actualid: ACTUAL });
  });

  it('sets a lookup through @odata.bind', async () => {
    await patch(`msdyn_actuals(${ACTUAL})`, { 'msdyn_Invoice@odata.bind': `/invoices(${INVOICE.toUpperCase()})` }, { 'If-Match': '*' });
    expect(dv.records.row('msdyn_actuals', ACTUAL)!._msdyn_invoice_value).toBe(INVOICE);
  });
});

describe('retrieving rows (stand-in for Dataverse)', () => {
  it('gets a row by key with $select, its @odata.etag and the primary key', async () => {
    const res = await call(`invoices(${INVOICE})?$select=invoicenumber`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      '@odata.context': `${dv.apiUrl}$metadata#invoices(invoicenumber)/$entity`,
      '@odata.etag': `W/"${dv.records.row('invoices', INVOICE)!.versionnumber}"`,
      invoicenumber: 'INV-01001',
      invoiceid: INVOICE,
    });
  });

  it('writes versionnumber as an exact JSON number', async () => {
    const text = await (await call(`invoices(${INVOICE})?$select=versionnumber`)).text();
    expect(text).toMatch(/"versionnumber":\d+[,}]/);
  });

  it('gets a row by alternate key, and refuses a column that is not one', async () => {
    const res = await call(`cdm_companies(cdm_companycode='USMF')?$select=cdm_name`);
    expect(await res.json()).toMatchObject({ cdm_name: 'Contoso Entertainment System USA' });
    expect((await call(`cdm_companies(cdm_name='x')`)).status).toBe(400);
  });

  it('answers 404 for a missing row and 304 when If-None-Match names the current version', async () => {
    expect((await call(`invoices(${MISSING})`)).status).toBe(404);
    const { '@odata.etag': etag } = (await (await call(`invoices(${INVOICE})`)).json()) as { '@odata.etag': string };
    expect((await call(`invoices(${INVOICE})`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
  });

  it('expands a single-valued navigation property with its own $select', async () => {
    const body = (await (
      await call(`msdyn_actuals(${ACTUAL})?$select=msdyn_amount&$expand=msdyn_Invoice($select=invoicenumber)`)
    ).json()) as Record<string, unknown>;
    expect(body.msdyn_Invoice).toMatchObject({ invoicenumber: 'INV-01001', invoiceid: INVOICE });
    expect(body.msdyn_Invoice).not.toHaveProperty('totalamount');
  });

  it('filters with eq/and, case-insensitively as Dataverse compares text, and counts', async () => {
    const body = (await (
      await call(`transactioncurrencies?$select=isocurrencycode&$filter=isocurrencycode eq 'usd'&$count=true`)
    ).json()) as {
      value: { isocurrencycode: string }[];
      '@odata.count': number;
    };
    expect(body.value.map((c) => c.isocurrencycode)).toEqual(['USD']);
    expect(body['@odata.count']).toBe(1);
    const byLookup = (await (
      await call(`msdyn_actuals?$filter=_msdyn_invoice_value eq ${INVOICE} and msdyn_description ne null`)
    ).json()) as { value: unknown[] };
    expect(byLookup.value).toHaveLength(1);
  });

  it('pages with Prefer: odata.maxpagesize and @odata.nextLink', async () => {
    const first = await call('transactioncurrencies?$select=isocurrencycode', { headers: { Prefer: 'odata.maxpagesize=2' } });
    expect(first.headers.get('Preference-Applied')).toBe('odata.maxpagesize=2');
    const page1 = (await first.json()) as { value: unknown[]; '@odata.nextLink': string };
    expect(page1.value).toHaveLength(2);
    const page2 = (await (await fetch(page1['@odata.nextLink'], { headers: { Prefer: 'odata.maxpagesize=2' } })).json()) as Record<
      string,
      unknown
    >;
    expect(page2.value).toHaveLength(1);
    expect(page2).not.toHaveProperty('@odata.nextLink');
  });

  it('refuses query syntax it does not implement instead of answering wrongly', async () => {
    const res = await call(`transactioncurrencies?$filter=startswith(isocurrencycode,'U')`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/stand-in does not support/);
  });

  it('answers 404 for an entity set it does not serve', async () => {
    expect((await call('opportunities')).status).toBe(404);
  });
});

describe('creating and deleting rows (stand-in for Dataverse)', () => {
  it('creates with POST, answering 204 and OData-EntityId, or 201 with the row when asked', async () => {
    const plain = await call('accounts', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ accountnumber: 'US-002' }),
    });
    expect(plain.status).toBe(204);
    expect(plain.headers.get('OData-EntityId')).toMatch(new RegExp(`^${dv.apiUrl.replace(/[$.]/g, '\\$&')}accounts\\([0-9a-f-]{36}\\)$`));
    const shown = await call('accounts', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Prefer: 'return=representation' },
      body: JSON.stringify({ accountnumber: 'US-003' }),
    });
    expect(shown.status).toBe(201);
    expect(await shown.json()).toMatchObject({ accountnumber: 'US-003' });
  });

  it('deletes only the version If-Match names', async () => {
    expect((await call(`invoices(${INVOICE})`, { method: 'DELETE', headers: { 'If-Match': 'W/"1"' } })).status).toBe(412);
    expect((await call(`invoices(${INVOICE})`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`invoices(${INVOICE})`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('versionnumbers beyond 2^53 (stand-in for Dataverse)', () => {
  it('hands them out and writes them exactly, in the row and in the ETag', async () => {
    const big = await startDataverseSimulator({ firstVersion: 9007199254740993n, seed: { accounts: [{ accountnumber: 'US-001' }] } });
    try {
      const text = await (await fetch(`${big.apiUrl}accounts?$select=versionnumber`)).text();
      expect(text).toContain('"versionnumber":9007199254740993');
      expect(text).toContain('"@odata.etag":"W/\\"9007199254740993\\""');
    } finally {
      await big.close();
    }
  });
});

describe('the request log (stand-in for Dataverse)', () => {
  it('records method, url, headers and time of each request, and asks for no token', async () => {
    const before = Date.now();
    await patch(`msdyn_actuals(${ACTUAL})`, { msdyn_description: 'x' }, { 'If-Match': '*' });
    expect(dv.requests).toHaveLength(1);
    const [logged] = dv.requests;
    expect(logged).toMatchObject({ method: 'PATCH', url: `msdyn_actuals(${ACTUAL})`, status: 204, via: 'http' });
    expect(logged!.headers['if-match']).toBe('*');
    expect(logged!.headers.authorization).toBeUndefined();
    expect(logged!.time).toBeGreaterThanOrEqual(before);
  });
});
