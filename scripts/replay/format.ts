import { functionForQueue, queueForSource, type Item, type Kind } from '../../shared/operations/retryable';

const KIND_LABEL: Record<Kind, string> = {
  quarantine: 'quarantine',
  'local-dead-letter': 'local DLQ',
  'servicebus-dead-letter': 'SB DLQ',
};

function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** 2026-11-20T10:11:12.345Z → 2026-11-20 10:11:12Z */
export function shortTime(iso: string | null): string {
  if (!iso) return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

/** Each id shortened to its shortest unique prefix of at least `min` characters (Service Bus ids stay whole). */
export function shortIds(ids: readonly string[], min = 12): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of ids) {
    if (id.startsWith('sb:')) {
      out.set(id, id);
      continue;
    }
    let n = Math.min(min, id.length);
    while (n < id.length && ids.some((other) => other !== id && other.startsWith(id.slice(0, n)))) n++;
    out.set(id, id.slice(0, n));
  }
  return out;
}

function replayedCell(i: Item): string {
  if (i.kind === 'local-dead-letter' && i.details.replayingAt) return `started ${shortTime(String(i.details.replayingAt))}`;
  return i.replayedAt ? shortTime(i.replayedAt) : 'no';
}

export function table(items: readonly Item[]): string {
  const ids = shortIds(items.map((i) => i.id));
  const header = ['ID', 'WHERE', 'SOURCE', 'RECEIVED', 'MESSAGE ID', 'REASON', 'REPLAYED'];
  const rows = items.map((i) => [
    ids.get(i.id)!,
    KIND_LABEL[i.kind],
    i.source,
    shortTime(i.receivedAt),
    clip(i.messageId ?? '', 36),
    clip(i.reason, 60),
    replayedCell(i),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The body pretty-printed when it is JSON, as it is otherwise. */
export function prettyBody(body: string): { json: boolean; text: string } {
  try {
    return { json: true, text: JSON.stringify(JSON.parse(body), null, 2) };
  } catch {
    return { json: false, text: body };
  }
}

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

/** One message, whole: what it is, why it is here, and its body. */
export function describe(i: Item, where: string): string {
  const queue = queueForSource(i.source);
  const fields: [string, string][] = [
    ['id', i.id],
    ['where', where],
    ['source', queue ? `${i.source} (replays to ${functionForQueue(queue)})` : i.source],
    ['message id', i.messageId ?? '(none)'],
    [
      { quarantine: 'received', 'local-dead-letter': 'dead-lettered', 'servicebus-dead-letter': 'enqueued' }[i.kind],
      i.receivedAt || '(unknown)',
    ],
  ];
  if (i.kind === 'quarantine') {
    fields.push(['replayed', i.replayedAt ?? 'no'], ['raw sha256', String(i.details.rawSha256)]);
  } else if (i.kind === 'local-dead-letter') {
    fields.push(['enqueued', String(i.details.enqueuedTimeUtc)], ['deliveries', String(i.details.deliveryCount)]);
    if (i.details.replayingAt)
      fields.push(['replay started', `${i.details.replayingAt} (not finished: check whether it arrived before --force)`]);
  } else {
    fields.push(
      ['sequence no.', String(i.details.sequenceNumber)],
      ['deliveries', String(i.details.deliveryCount ?? '')],
      ['content type', String(i.details.contentType ?? '')],
    );
    if (i.details.deadLetterSource) fields.push(['DL source', String(i.details.deadLetterSource)]);
    const props = i.details.applicationProperties as Record<string, unknown> | undefined;
    if (props && Object.keys(props).length) fields.push(['properties', JSON.stringify(props)]);
  }
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  const parts = [fields.map(([k, v]) => `${k.padEnd(width)}${v}`).join('\n'), '', 'reason', indent(i.reason)];

  const history = i.details.history as { deliveryCount: number; at: string; error: string }[] | undefined;
  if (history?.length) parts.push('', 'deliveries', ...history.map((h) => indent(`#${h.deliveryCount} ${h.at}: ${h.error}`)));

  const body = prettyBody(i.body);
  parts.push(
    '',
    `body (${body.json ? 'JSON, pretty-printed' : 'not JSON, as received'}${i.bodyTruncated ? `; TRUNCATED: only the beginning was kept` : ''})`,
    indent(body.text),
  );
  return parts.join('\n');
}
