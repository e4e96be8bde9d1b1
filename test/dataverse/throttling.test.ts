import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDataverseSimulator, type DataverseSimulator } from './simulator/server';

let dv: DataverseSimulator;

beforeEach(async () => {
  dv = await startDataverseSimulator({ seed: { accounts: [{ accountnumber: 'US-001' }] } });
});
afterEach(() => dv.close());

const get = () => fetch(`${dv.apiUrl}accounts?$select=accountnumber`);

describe('service protection limits (stand-in for Dataverse)', () => {
  it('answers 429 with Retry-After in seconds and the documented error code for the next N requests', async () => {
    dv.throttleNext(1, { retryAfterSeconds: 1 });
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('1');
    expect(await limited.json()).toEqual({
      error: { code: '0x80072322', message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.' },
    });
  });

  it('keeps answering 429 until the Retry-After has passed, then serves again', async () => {
    dv.throttleNext(1, { retryAfterSeconds: 1 });
    expect((await get()).status).toBe(429);
    expect((await get()).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect((await get()).status).toBe(200);
  });

  it('can answer with the execution-time or concurrency code instead', async () => {
    dv.throttleNext(1, { retryAfterSeconds: 2, code: '0x80072321' });
    expect(((await (await get()).json()) as { error: { code: string } }).error.code).toBe('0x80072321');
  });

  it('logs each request with its time, so a test can measure that none came before the Retry-After', async () => {
    dv.throttleNext(1, { retryAfterSeconds: 1 });
    await get();
    await new Promise((resolve) => setTimeout(resolve, 1010));
    await get();
    const [first, second] = dv.requests;
    expect(first!.status).toBe(429);
    expect(second!.time - first!.time).toBeGreaterThanOrEqual(1000);
    expect(second!.status).toBe(200);
  });

  it('throttles a $batch as one request', async () => {
    dv.throttleNext(1, { retryAfterSeconds: 1 });
    const res = await fetch(`${dv.apiUrl}$batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/mixed; boundary=b' },
      body: '--b--',
    });
    expect(res.status).toBe(429);
    expect(dv.operations).toHaveLength(0);
  });
});
