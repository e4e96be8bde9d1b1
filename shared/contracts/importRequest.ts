import { z } from 'zod';
import { identifier, legalEntity } from './common';

/**
 * "Import this proposal now" (queue import-requests): sent by the app itself when a proposal's
 * last billed sales actual, or its header, may just have been staged (docs/design.md#import-fast-path).
 */
export const importRequestSchema = z.object({
  legalEntity,
  proposalId: identifier(20),
});

export type ImportRequest = z.infer<typeof importRequestSchema>;
