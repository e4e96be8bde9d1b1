import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchBody, readBatchResponse, type BatchPartsGroup } from '../support/dataverseBatch';
import { startDataverseSimulator, type DataverseSimulator } from './simulator/server';

const actualId = (n: number) => `ac000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const MISSING = actualId(999);

let dv: DataverseSimulator;

beforeEach(async () => {
  dv = await startDataverseSimulator({
    seed: { msdyn_actuals: [1, 2, 3].map((n) => ({ msdyn_actualid: actualId(n), msdyn_description: `actual ${n}` })) },
  });
});
afterEach(() => dv.close());

async function batch(groups: BatchPartsGroup[], prefer?: string) {
  const { contentType, body } = batchBody(groups);
  const res = await fetch(`${dv.apiUrl}$batch`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, 'OData-Version': '4.0', Accept: 'application/json', ...(prefer ? { Prefer: prefer } : {}) },
    body,
  });
  return { status: res.status, parts: readBatchResponse(await res.text(), res.headers.get('content-type')) };
}

const voucher = (n: number, id = actualId(n)) => ({
  method: 'PATCH',
  url: `/api/data/v9.2/msdyn_actuals(${id})`,
  headers: { 'If-Match': '*' },
  body: { msdyn_externalreferenceid: `V-${n}` },
  contentId: String(n),
});

describe('$batch with change sets (stand-in for Dataverse)', () => {
  it('applies a change set of updates and answers each part with its Content-ID', async () => {
    const { status, parts } = await batch([{ changeSet: [voucher(1), voucher(2), voucher(3)] }]);
    expect(status).toBe(200);
    expect(parts.map((p) => [p.status, p.contentId])).toEqual([
      [204, '1'],
      [204, '2'],
      [204, '3'],
    ]);
    expect(dv.records.rows('msdyn_actuals').map((r) => r.msdyn_externalreferenceid)).toEqual(['V-1', 'V-2', 'V-3']);
  });

  it('answers in the documented multipart form: batchresponse and changesetresponse boundaries, application/http parts', async () => {
    const { contentType, body } = batchBody([{ changeSet: [voucher(1)] }]);
    const res = await fetch(`${dv.apiUrl}$batch`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    expect(res.headers.get('content-type')).toMatch(/^multipart\/mixed; boundary=batchresponse_[0-9a-f-]{36}$/);
    const text = await res.text();
    expect(text).toMatch(/^--batchresponse_.*\r\nContent-Type: multipart\/mixed; boundary=changesetresponse_/);
    expect(text).toContain(
      'Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\n',
    );
    expect(text.trimEnd()).toMatch(/--batchresponse_[0-9a-f-]{36}--$/);
  });

  it('rolls back the whole change set when one update meets a missing row, answering that error alone', async () => {
    const { status, parts } = await batch([{ changeSet: [voucher(1), voucher(999, MISSING), voucher(3)] }]);
    expect(status).toBe(404);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ status: 404, contentId: '999' });
    expect(JSON.parse(parts[0]!.body)).toEqual({
      error: { code: '0x80040217', message: `msdyn_actual With Id = ${MISSING} Does Not Exist` },
    });
    expect(dv.records.rows('msdyn_actuals').map((r) => r.msdyn_externalreferenceid)).toEqual([undefined, undefined, undefined]);
  });

  it('stops at the first failing part without odata.continue-on-error', async () => {
    const { status, parts } = await batch([{ changeSet: [voucher(999, MISSING)] }, { changeSet: [voucher(2)] }]);
    expect(status).toBe(404);
    expect(parts).toHaveLength(1);
    expect(dv.records.row('msdyn_actuals', actualId(2))!.msdyn_externalreferenceid).toBeUndefined();
  });

  it('goes on past a failed change set with odata.continue-on-error, answering 200 with every result', async () => {
    const { status, parts } = await batch(
      [{ changeSet: [voucher(1)] }, { changeSet: [voucher(999, MISSING)] }, { changeSet: [voucher(3)] }],
      'odata.continue-on-error',
    );
    expect(status).toBe(200);
    expect(parts.map((p) => p.status)).toEqual([204, 404, 204]);
    expect(dv.records.row('msdyn_actuals', actualId(3))!.msdyn_externalreferenceid).toBe('V-3');
  });

  it('upserts inside a batch too: a PATCH without If-Match creates the missing row', async () => {
    const { parts } = await batch([{ changeSet: [{ ...voucher(999, MISSING), headers: {} }] }]);
    expect(parts[0]!.status).toBe(204);
    expect(dv.records.row('msdyn_actuals', MISSING)).toBeDefined();
  });

  it('resolves a $Content-ID reference to a row created earlier in the change set', async () => {
    const { parts } = await batch([
      {
        changeSet: [
          { method: 'POST', url: 'msdyn_actuals', body: { msdyn_description: 'new' }, contentId: '1' },
          { method: 'PATCH', url: '$1', body: { msdyn_externalreferenceid: 'V-new' }, contentId: '2' },
        ],
      },
    ]);
    expect(parts.map((p) => p.status)).toEqual([204, 204]);
    const created = dv.records.rows('msdyn_actuals').find((r) => r.msdyn_description === 'new');
    expect(created?.msdyn_externalreferenceid).toBe('V-new');
  });

  it('answers GETs outside change sets and refuses them inside', async () => {
    const { parts } = await batch([{ method: 'GET', url: `msdyn_actuals(${actualId(1)})?$select=msdyn_description` }]);
    expect(parts[0]!.status).toBe(200);
    expect(JSON.parse(parts[0]!.body)).toMatchObject({ msdyn_description: 'actual 1' });
    const inside = await batch([{ changeSet: [{ method: 'GET', url: 'msdyn_actuals' }] }]);
    expect(inside.parts[0]!.status).toBe(400);
  });

  it('refuses a batch of more than 1000 operations', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ ...voucher(1), contentId: String(i + 1) }));
    const { contentType, body } = batchBody([{ changeSet: many }]);
    const res = await fetch(`${dv.apiUrl}$batch`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/limit is 1000/);
  });

  it('logs every operation of a batch with its own headers, so a test can check each PATCH carried If-Match', async () => {
    await batch([{ changeSet: [voucher(1), { ...voucher(2), headers: {} }] }]);
    expect(dv.requests.map((r) => r.url)).toEqual(['$batch']);
    const patches = dv.operations.filter((o) => o.method === 'PATCH');
    expect(patches.map((p) => [p.url, p.headers['if-match'], p.via])).toEqual([
      [`msdyn_actuals(${actualId(1)})`, '*', 'batch'],
      [`msdyn_actuals(${actualId(2)})`, undefined, 'batch'],
    ]);
  });
});
