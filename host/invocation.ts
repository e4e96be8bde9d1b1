import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';

export type LogLine = (level: string, functionName: string, message: string) => void;

/**
 * Counts what is running, so a shutdown can wait for in-flight invocations to
 * finish, and builds the InvocationContext the Functions host would.
 */
export class Invocations {
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly log: LogLine) {}

  get inFlight(): number {
    return this.running.size;
  }

  context(functionName: string, triggerMetadata: Record<string, unknown> = {}): InvocationContext {
    return new InvocationContext({
      invocationId: randomUUID(),
      functionName,
      triggerMetadata,
      logHandler: (level, ...args) =>
        this.log(level, functionName, args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')),
    });
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const done = () => this.running.delete(work);
    work.then(done, done);
    return work;
  }

  async drain(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}

/** The body as the Service Bus trigger hands it to a Node function: parsed when it is JSON, else text. */
export function triggerBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
