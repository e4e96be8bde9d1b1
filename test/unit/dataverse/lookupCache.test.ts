import { describe, expect, it } from 'vitest';
import { AttributeProblem } from '../../../shared/contracts/dataverse/attributeValues';
import { DataverseLookups } from '../../../shared/dataverse/lookups';
import { RecentlyUsed } from '../../../shared/dataverse/recentlyUsed';

/** A Web API stand-in in memory that counts the rows it was asked for. */
function countingReads(rows: Record<string, Record<string, unknown>>) {
  const asked: string[] = [];
  return {
    asked,
    reads: {
      row: async (set: string, id: string) => {
        asked.push(`${set}(${id})`);
        return rows[`${set}(${id})`];
      },
      count: async () => 0,
    },
  };
}

const account = (n: number) => ({ id: `a${n}`, logicalName: 'account' });

describe('the lookup cache is bounded', () => {
  it('keeps at most maxEntries, dropping the least recently used', () => {
    const cache = new RecentlyUsed<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c')]).toEqual([1, 3]);
  });

  it('refuses a bound that is not a whole number of at least 1', () => {
    expect(() => new RecentlyUsed(0)).toThrow(RangeError);
  });

  it('reads an account once while cached, and again once a bounded cache has let it go', async () => {
    const rows = Object.fromEntries([1, 2, 3].map((n) => [`accounts(a${n})`, { accountnumber: `US-00${n}` }]));
    const { asked, reads } = countingReads(rows);
    const lookups = new DataverseLookups(reads, { contractCompanyColumn: 'msdyn_company', cacheSize: 2 });
    expect(await lookups.customerAccount('customerid', account(1))).toBe('US-001');
    expect(await lookups.customerAccount('customerid', account(1))).toBe('US-001');
    expect(asked).toEqual(['accounts(a1)']);
    await lookups.customerAccount('customerid', account(2));
    await lookups.customerAccount('customerid', account(3)); // a1 is the least recently used: dropped
    await lookups.customerAccount('customerid', account(1));
    expect(asked).toEqual(['accounts(a1)', 'accounts(a2)', 'accounts(a3)', 'accounts(a1)']);
  });

  it('caches no failure: a 404 is asked again next time, and names the attribute', async () => {
    const { asked, reads } = countingReads({});
    const lookups = new DataverseLookups(reads, { contractCompanyColumn: 'msdyn_company' });
    for (let i = 0; i < 2; i++) {
      await expect(lookups.currencyCode('transactioncurrencyid', { id: 'c9', logicalName: 'transactioncurrency' })).rejects.toEqual(
        new AttributeProblem('transactioncurrencyid', 'points to transactioncurrency c9, which Dataverse does not have (404)'),
      );
    }
    expect(asked).toHaveLength(2);
  });
});
