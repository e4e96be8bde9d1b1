import { z } from 'zod';
import { identifier, legalEntity } from '../contracts/common';

/** Route parameters, validated like any other input. */
export const proposalRoute = z.object({ legalEntity, proposalId: identifier(20) });
export const actualRoute = z.object({ legalEntity, actualId: identifier(100) });
