/**
 * The operations on quarantined and dead-lettered messages: list them page by
 * page, and retry them, each at most once (the procedure the replay tool uses
 * too, shared/operations/resubmit.ts). Routes: GET /api/ops/messages and
 * POST /api/ops/messages/retry (docs/operations.md).
 */
import type { Settings } from '../config';
import { peekDeadLetterPage, serviceBusPort, type ServiceBusPort } from '../messaging/deadLetters';
import { LocalDeadLetters } from '../messaging/localDeadLetters';
import { LocalQueueWriter } from '../messaging/localQueueRows';
import { serviceBusClient } from '../messaging/serviceBus';
import { statusOf } from '../storage/conditions';
import { QuarantineStore } from '../storage/quarantine';
import { RetryLedger } from '../storage/retries';
import { tableClient } from '../storage/tables';
import { decodePageToken, encodePageToken, PageTokenError, type Position } from './pageTokens';
import { LocalQueueTarget, retryFound, ServiceBusTarget, type Target } from './resubmit';
import { INBOUND_QUEUES, type Item } from './retryable';
import { busItem, find, localItem, NotFound, quarantineItem, type MessageStores } from './stores';

export { PageTokenError } from './pageTokens';

export type MessageKind = 'quarantined' | 'dead-lettered';

export interface RetryableMessage {
  id: string;
  kind: MessageKind;
  /** The queue it came from, or `import-from-staging`. */
  source: string;
  reason: string;
  /** When it was quarantined or dead-lettered (a Service Bus dead letter: when it was enqueued). */
  receivedAt: string;
  retriedAt: string | null;
  retriedBy: string | null;
  /** The body's first ~200 characters, white space collapsed. */
  preview: string;
}

export interface MessagePage {
  items: RetryableMessage[];
  nextPageToken: string | null;
}

export interface ListMessagesQuery {
  kind: MessageKind;
  pageToken?: string;
  /** 1..100, 25 when left out. */
  pageSize?: number;
  /** Quarantined messages retried already, too (dead letters leave their queue once retried). */
  includeRetried?: boolean;
}

export interface RetryResult {
  id: string;
  /** `failed`: the resubmission itself failed and the mark was taken back; it may be retried again. */
  outcome: 'retried' | 'refused' | 'not-found' | 'failed';
  detail: string;
}

export const MAX_RETRY_IDS = 50;
export const DEFAULT_PAGE_SIZE = 25;
/** A page may need several store requests when a filter skips rows; never more than this. */
const MAX_REQUESTS_PER_PAGE = 5;

const PREVIEW_LENGTH = 200;

function preview(body: string): string {
  const one = body.replace(/\s+/g, ' ').trim();
  return one.length > PREVIEW_LENGTH ? `${one.slice(0, PREVIEW_LENGTH - 1)}…` : one;
}

function message(i: Item): RetryableMessage {
  return {
    id: i.id,
    kind: i.kind === 'quarantine' ? 'quarantined' : 'dead-lettered',
    source: i.source,
    reason: i.reason,
    receivedAt: i.receivedAt,
    retriedAt: i.replayedAt,
    retriedBy: i.replayedBy,
    preview: preview(i.body),
  };
}

type Segment = (pageSize: number, at: string | undefined) => Promise<{ items: Item[]; next: string | undefined }>;

export class MessageOperations {
  constructor(
    private readonly stores: MessageStores,
    /** Where quarantined messages and local dead letters go: Service Bus when configured, else the local queue. */
    private readonly target: Target,
  ) {}

  private segments(q: ListMessagesQuery): Segment[] {
    const { quarantine, local, bus } = this.stores;
    if (q.kind === 'quarantined')
      return [
        async (pageSize, at) => {
          const page = await quarantine.page({ pageSize, continuation: at, includeReplayed: q.includeRetried });
          return { items: page.items.map(quarantineItem), next: page.continuation };
        },
      ];
    const segments: Segment[] = [
      async (pageSize, at) => {
        const page = await local.page(pageSize, at);
        return { items: page.rows.map(localItem), next: page.continuation };
      },
    ];
    for (const queue of bus ? INBOUND_QUEUES : []) {
      segments.push(async (pageSize, at) => {
        const page = await peekDeadLetterPage(bus!, queue, pageSize, at);
        return { items: page.items.map(busItem), next: page.next };
      });
    }
    return segments;
  }

  /** One page; the cost is the page's (a few store requests), never the table's. Throws PageTokenError. */
  async list(q: ListMessagesQuery): Promise<MessagePage> {
    const pageSize = q.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new RangeError('pageSize must be an integer from 1 to 100');
    const list = q.kind === 'quarantined' && q.includeRetried ? 'quarantined+retried' : q.kind;
    const segments = this.segments(q);
    let at: Position = q.pageToken ? decodePageToken(q.pageToken, list, segments.length) : { list, segment: 0, at: undefined };
    const items: Item[] = [];
    for (let requests = 0; items.length < pageSize && at.segment < segments.length && requests < MAX_REQUESTS_PER_PAGE; requests++) {
      let page: Awaited<ReturnType<Segment>>;
      try {
        page = await segments[at.segment]!(pageSize - items.length, at.at);
      } catch (e) {
        // A continuation the store cannot read was not one it gave.
        if (at.at !== undefined && (statusOf(e) === 400 || e instanceof SyntaxError))
          throw new PageTokenError('stale', 'the store no longer accepts its position; start from the first page');
        throw e;
      }
      items.push(...page.items);
      at = page.next === undefined ? { list, segment: at.segment + 1, at: undefined } : { ...at, at: page.next };
    }
    return { items: items.map(message), nextPageToken: at.segment < segments.length ? encodePageToken(at) : null };
  }

  /**
   * Retries each id at most once, in order, one after another (a duplicate id in
   * the batch is refused like a second click). Never throws for one message: its
   * result says what happened.
   */
  async retry(ids: readonly string[], by: string): Promise<RetryResult[]> {
    const results: RetryResult[] = [];
    let target: Promise<Target> | undefined;
    const options = {
      force: false,
      by,
      toolAdvice: false,
      target: () => (target ??= this.target.check().then(() => this.target)),
    };
    for (const id of ids) {
      try {
        const found = await find(this.stores, id, { prefix: false });
        const a = await retryFound(this.stores, found, options);
        results.push({ id, outcome: a.outcome === 'replayed' ? 'retried' : a.outcome, detail: a.message });
      } catch (e) {
        if (!(e instanceof NotFound)) {
          results.push({ id, outcome: 'failed', detail: (e as Error).message });
          continue;
        }
        if (e.retried) {
          const who = e.retried.retriedBy ? ` by ${e.retried.retriedBy}` : '';
          results.push({ id, outcome: 'refused', detail: `already retried at ${e.retried.retriedAt}${who}` });
        } else results.push({ id, outcome: 'not-found', detail: e.message });
      }
    }
    return results;
  }
}

export interface MessageOperationsOptions {
  /** Storage client options (request counting, fault injection in tests). */
  storage?: Parameters<typeof tableClient>[2];
  /** Service Bus access; by default the SDK client from the settings, none when no connection is configured. */
  bus?: ServiceBusPort;
  now?: () => Date;
}

/** The stores of the operations and the replay tool, from the app settings. */
export function messageStores(s: Settings, options: MessageOperationsOptions = {}): MessageStores & { localQueue: LocalQueueWriter } {
  const client = options.bus ? undefined : serviceBusClient(s);
  return {
    quarantine: new QuarantineStore(tableClient(s, 'quarantine', options.storage), tableClient(s, 'quarantineOpen', options.storage)),
    local: new LocalDeadLetters(tableClient(s, 'localDeadLetters', options.storage)),
    localQueue: new LocalQueueWriter(tableClient(s, 'localMessages', options.storage)),
    retries: new RetryLedger(tableClient(s, 'messageRetries', options.storage)),
    bus: options.bus ?? (client && serviceBusPort(client)),
    now: options.now ?? (() => new Date()),
  };
}

/** The operations as the function app runs them; `close` ends the Service Bus connection. */
export function createMessageOperations(
  s: Settings,
  options: MessageOperationsOptions = {},
): { operations: MessageOperations; close(): Promise<void> } {
  const stores = messageStores(s, options);
  const target = stores.bus ? new ServiceBusTarget(stores.bus) : new LocalQueueTarget(stores.localQueue);
  return { operations: new MessageOperations(stores, target), close: async () => stores.bus?.close() };
}
