import type { ServiceBusFunction } from '../shared/hosting/definition';
import type { Invocations, LogLine } from './invocation';
import { triggerBody } from './invocation';
import type { LocalMessage } from '../shared/messaging/localQueueRows';
import type { LocalQueues } from './localQueues';

/**
 * Delivers a local queue's messages to its function, at most
 * `maxConcurrentCalls` at once (host.json), and polls for redeliveries.
 */
export class QueuePump {
  private stopped = false;
  private paused = false;
  private active = 0;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly def: ServiceBusFunction,
    private readonly queues: LocalQueues,
    private readonly invocations: Invocations,
    private readonly options: { maxConcurrentCalls: number; maxMessageBatchSize?: number; pollMs: number; log: LogLine },
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** A message was just enqueued: look now rather than at the next poll. */
  nudge(): void {
    this.wake?.();
  }

  /**
   * Switched off (AzureWebJobs.<name>.Disabled): nothing more is received, so
   * waiting messages keep their delivery count; what is being delivered finishes.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.nudge();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.nudge();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let received: LocalMessage[] = [];
      const batches = this.def.cardinality === 'many';
      const room = this.paused ? 0 : this.options.maxConcurrentCalls - this.active;
      try {
        const max = batches ? (room > 0 ? (this.options.maxMessageBatchSize ?? 1000) : 0) : room;
        received = await this.queues.receive(this.def.queueName, max);
      } catch (e) {
        this.options.log('error', this.def.name, `receiving from ${this.def.queueName} failed: ${(e as Error).message}`);
      }
      if (batches && received.length) void this.invocations.track(this.deliverBatch(received));
      else for (const m of received) void this.invocations.track(this.deliver(m));
      if (!received.length || this.active >= this.options.maxConcurrentCalls || this.paused) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs);
          this.wake = () => (clearTimeout(timer), resolve());
        });
        this.wake = undefined;
      }
    }
  }

  /** Cardinality 'many': one invocation with every message received, completed or abandoned together, as the Functions host does. */
  private async deliverBatch(messages: LocalMessage[]): Promise<void> {
    this.active++;
    const context = this.invocations.context(this.def.name, {
      messageIdArray: messages.map((m) => m.messageId),
      deliveryCountArray: messages.map((m) => m.deliveryCount),
      enqueuedTimeUtcArray: messages.map((m) => m.enqueuedTimeUtc),
    });
    try {
      await this.def.handler(
        messages.map((m) => triggerBody(m.body)),
        context,
      );
      for (const m of messages) await this.queues.complete(m);
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      for (const m of messages) await this.release(m, error);
    } finally {
      this.active--;
      this.nudge();
    }
  }

  private async release(m: LocalMessage, error: string): Promise<void> {
    try {
      const next = await this.queues.abandon(m, error);
      this.options.log(
        'warning',
        this.def.name,
        `message ${m.messageId} failed delivery ${m.deliveryCount} (${error}); ${next === 'deadLettered' ? 'dead-lettered' : 'will be redelivered'}`,
      );
    } catch (abandonError) {
      // The lock expires and the message is redelivered anyway.
      this.options.log('error', this.def.name, `could not release message ${m.messageId}: ${(abandonError as Error).message}`);
    }
  }

  private async deliver(m: LocalMessage): Promise<void> {
    this.active++;
    const context = this.invocations.context(this.def.name, {
      messageId: m.messageId,
      deliveryCount: m.deliveryCount,
      enqueuedTimeUtc: m.enqueuedTimeUtc,
    });
    try {
      await this.def.handler(triggerBody(m.body), context);
      await this.queues.complete(m);
    } catch (e) {
      await this.release(m, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    } finally {
      this.active--;
      this.nudge();
    }
  }
}
