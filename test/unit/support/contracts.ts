import type { z } from 'zod';
import { describeIssues } from '../../../shared/contracts/common';

/** A schema's verdict as the functions report it: the parsed value, or the reason naming each field at fault. */
export function parseWith<S extends z.ZodType>(schema: S) {
  return (input: unknown): { ok: true; value: z.infer<S> } | { ok: false; reason: string } => {
    const result = schema.safeParse(input);
    return result.success ? { ok: true, value: result.data } : { ok: false, reason: describeIssues(result.error) };
  };
}
