import type { ServiceBusFunction } from '../shared/hosting/definition';
import type { Invocations, LogLine } from './invocation';
import { triggerBody } from './invocation';
import type { LocalMessage } from './localQueueRows';
import type { LocalQueues } from './localQueues';

/**
 * Delivers a local queue's messages to its function, at most
 * `maxConcurrentCalls` at once (host.json), and polls for redeliveries.
 */
export class QueuePump {
  private stopped = false;
  private active = 0;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly def: ServiceBusFunction,
    private readonly queues: LocalQueues,
    private readonly invocations: Invocations,
    private readonly options: { maxConcurrentCalls: number; pollMs: number; log: LogLine },
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** A message was just enqueued: look now rather than at the next poll. */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.nudge();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let received: LocalMessage[] = [];
      try {
        received = await this.queues.receive(this.def.queueName, this.options.maxConcurrentCalls - this.active);
      } catch (e) {
        this.options.log('error', this.def.name, `receiving from ${this.def.queueName} failed: ${(e as Error).message}`);
      }
      for (const m of received) void this.invocations.track(this.deliver(m));
      if (!received.length || this.active >= this.options.maxConcurrentCalls) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs);
          this.wake = () => (clearTimeout(timer), resolve());
        });
        this.wake = undefined;
      }
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
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
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
    } finally {
      this.active--;
      this.nudge();
    }
  }
}
