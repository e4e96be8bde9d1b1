/**
 * Writes and reads $batch bodies for tests, in the multipart/mixed form of
 * "Execute batch operations using the Web API". Not the product's client:
 * just enough to talk to the stand-in from a test.
 */
export type BatchRequestPart = { method: string; url: string; body?: unknown; headers?: Record<string, string>; contentId?: string };
export type BatchPartsGroup = BatchRequestPart | { changeSet: BatchRequestPart[] };

export function batchBody(groups: BatchPartsGroup[], boundary = 'batch_test'): { contentType: string; body: string } {
  const lines: string[] = [];
  groups.forEach((group, n) => {
    lines.push(`--${boundary}`);
    if ('changeSet' in group) {
      const inner = `changeset_test_${n}`;
      lines.push(`Content-Type: multipart/mixed; boundary=${inner}`, '');
      for (const part of group.changeSet) lines.push(`--${inner}`, ...requestPart(part));
      lines.push(`--${inner}--`);
    } else {
      lines.push(...requestPart(group));
    }
  });
  lines.push(`--${boundary}--`, '');
  return { contentType: `multipart/mixed; boundary="${boundary}"`, body: lines.join('\r\n') };
}

function requestPart({ method, url, body, headers = {}, contentId }: BatchRequestPart): string[] {
  return [
    'Content-Type: application/http',
    'Content-Transfer-Encoding: binary',
    ...(contentId ? [`Content-ID: ${contentId}`] : []),
    '',
    `${method} ${url} HTTP/1.1`,
    ...(body === undefined ? [] : ['Content-Type: application/json; type=entry']),
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    body === undefined ? '' : JSON.stringify(body),
  ];
}

export type BatchResponsePart = { status: number; contentId?: string; headers: Record<string, string>; body: string; changeSet?: number };

/** Flattens the response: each operation's status, headers and body; `changeSet` numbers the change set it came from. */
export function readBatchResponse(body: string, contentType: string | null): BatchResponsePart[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType ?? '')?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  return partsOf(body, boundary).flatMap((part, n) => {
    const inner = /boundary="?([^";\r\n]+)"?/.exec(part.headers['content-type'] ?? '')?.[1];
    return inner ? partsOf(part.content, inner).map((p) => ({ ...httpResponse(p), changeSet: n })) : [httpResponse(part)];
  });
}

function partsOf(body: string, boundary: string): { headers: Record<string, string>; content: string }[] {
  const sections = body.split(new RegExp(`--${boundary}(?:--)?\\r?\\n?`)).slice(1, -1);
  return sections.map((section) => {
    const [head = '', ...rest] = section.split(/\r?\n\r?\n/);
    return { headers: headerMap(head), content: rest.join('\r\n\r\n') };
  });
}

function httpResponse(part: { headers: Record<string, string>; content: string }): BatchResponsePart {
  const [head = '', ...rest] = part.content.split(/\r?\n\r?\n/);
  const [statusLine = '', ...headerLines] = head.split(/\r?\n/);
  const contentId = part.headers['content-id'];
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]),
    headers: headerMap(headerLines.join('\n')),
    body: rest.join('\r\n\r\n').trim(),
    ...(contentId ? { contentId } : {}),
  };
}

function headerMap(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
