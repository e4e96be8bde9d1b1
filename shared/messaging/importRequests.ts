import { createHash } from 'node:crypto';
import type { ServiceBusSender } from '@azure/service-bus';
import type { ImportRequest } from '../contracts/importRequest';

/**
 * Import requests are gathered per proposal and time window: every delivery that stages something for a
 * proposal asks for an import at the end of its window, under one message id per proposal and window, so
 * Service Bus duplicate detection keeps one request per window however many actuals arrived in it. The
 * request is delivered after the window closed: after every delivery that asked for it had staged its row.
 */
export const IMPORT_REQUEST_WINDOW_MS = 1000;
/** How long after its window a request is delivered (clock skew between instances, and a margin). */
export const IMPORT_REQUEST_SETTLE_MS = 500;

export interface ScheduledImportRequest {
  messageId: string;
  body: ImportRequest;
  /** When the request becomes visible to the importProposal function. */
  at: Date;
}

export function importRequestMessage(body: ImportRequest, now: Date): ScheduledImportRequest {
  const window = Math.floor(now.getTime() / IMPORT_REQUEST_WINDOW_MS);
  const identity = [body.legalEntity, body.proposalId, window].join('\n');
  return {
    messageId: `import-${createHash('sha256').update(identity).digest('hex').slice(0, 40)}`,
    body,
    at: new Date((window + 1) * IMPORT_REQUEST_WINDOW_MS + IMPORT_REQUEST_SETTLE_MS),
  };
}

/** What the pipeline needs to ask for an import: present on the runtime only while IMPORT_FAST_PATH is on. */
export interface ImportRequestSender {
  send(request: ScheduledImportRequest): Promise<void>;
}

/** Schedules the request on the import-requests queue (a resend within the window is dropped by duplicate detection). */
export class ServiceBusImportRequests implements ImportRequestSender {
  constructor(private readonly sender: Pick<ServiceBusSender, 'scheduleMessages'>) {}

  async send(r: ScheduledImportRequest): Promise<void> {
    await this.sender.scheduleMessages(
      { messageId: r.messageId, body: r.body, contentType: 'application/json', subject: 'ImportRequest' },
      r.at,
    );
  }
}
