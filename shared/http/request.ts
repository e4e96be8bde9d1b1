import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { type z } from 'zod';
import { describeIssues } from '../contracts/common';
import { firstField, problem } from './problem';

/** A posting callback of MAX_LINES lines with 100-character actual ids (≈ 200 bytes a line) fits; Azure Functions takes up to 100 MB. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export type Read<T> = { ok: true; value: T } | { ok: false; response: HttpResponseInit };

/** The raw body, after the media type and size checks (415, 413). */
export async function readBodyText(request: HttpRequest): Promise<Read<string>> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    return {
      ok: false,
      response: problem('unsupported-media-type', `content-type: must be application/json, not "${type.slice(0, 100)}"`, {
        field: 'content-type',
      }),
    };
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  const tooLarge = () => problem('payload-too-large', `body: must be at most ${MAX_BODY_BYTES} bytes`, { field: 'body' });
  if (declared > MAX_BODY_BYTES) return { ok: false, response: tooLarge() };
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) return { ok: false, response: tooLarge() };
  return { ok: true, value: text };
}

export function parseJson(text: string): Read<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, response: problem('invalid-request', 'body: is not valid JSON', { field: 'body' }) };
  }
}

/** Route parameters are input like any other: validated, and a problem names the one at fault. */
export function routeParams<S extends z.ZodObject>(request: HttpRequest, schema: S): Read<z.infer<S>> {
  const parsed = schema.safeParse(request.params);
  if (parsed.success) return { ok: true, value: parsed.data };
  const detail = describeIssues(parsed.error);
  return { ok: false, response: problem('invalid-request', detail, { field: firstField(detail) }) };
}

/** Query parameters, validated like any other input: a problem names the one at fault. */
export function queryParams<S extends z.ZodObject>(request: HttpRequest, schema: S): Read<z.infer<S>> {
  const parsed = schema.safeParse(Object.fromEntries(request.query.entries()));
  if (parsed.success) return { ok: true, value: parsed.data };
  const detail = describeIssues(parsed.error);
  return { ok: false, response: problem('invalid-request', detail, { field: firstField(detail) }) };
}
