import type { Settings } from '../shared/config';

/**
 * Resolves `%NAME%` in a binding expression from the app settings, as the
 * Functions host does (a timer's `%IMPORT_SCHEDULE%`). The local host reads
 * the validated settings, so a schema default counts as set; in Azure the
 * setting itself must be there (the Bicep sets every schedule).
 */
export function resolveAppSettingReferences(expression: string, settings: Settings): string {
  return expression.replace(/%([^%]+)%/g, (_, name: string) => {
    const value = (settings as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value === '') throw new Error(`${expression}: app setting ${name} is not set`);
    return value;
  });
}
