import type { AccountingUpdateMessage } from '../contracts/accountingUpdate';

/**
 * The msdyn_actual columns an accounting update sets, from the public table
 * reference of msdyn_actual (README, "Accounting write-back", has the whole
 * mapping with what is deliberately not written and why):
 *
 * - msdyn_externalreferenceid (String, 100): "an ID from an external system,
 *   such as the journal entry voucher number from an ERP system" ← voucher.
 * - msdyn_externalreferencedate (DateOnly): "a date from an external system,
 *   such as a journal entry voucher date from an ERP system" ← accountingDate
 *   (the voucher is dated with the posting's accounting date).
 * - msdyn_accountingdate (DateOnly) ← accountingDate.
 *
 * Not written: msdyn_billingstatus (Project Operations sets it itself),
 * exchangerate and the *_base amounts (read-only, Dataverse computes them from
 * the currency), and the accounting-currency amount and sales tax, for which
 * the table has no column.
 */
export function accountingColumns(update: AccountingUpdateMessage): Record<string, string> {
  const date = dateOnlyValue(update.accountingDate);
  return {
    msdyn_externalreferenceid: update.voucher,
    msdyn_externalreferencedate: date,
    msdyn_accountingdate: date,
  };
}

/**
 * A date for a Date Only column with User Local behaviour, which the Web API
 * exposes as Edm.DateTimeOffset, stores as the UTC instant sent and shows in
 * each reader's time zone. Midnight UTC would show as the day before to every
 * reader west of Greenwich (the Americas); midday UTC shows the same calendar
 * date from UTC-11 to UTC+11.
 */
export function dateOnlyValue(isoDate: string): string {
  return `${isoDate}T12:00:00Z`;
}
