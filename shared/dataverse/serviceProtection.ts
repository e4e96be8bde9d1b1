/**
 * Keeps every request of this process behind the latest Retry-After that
 * Dataverse named. The service protection limits count per user and web
 * server, and every invocation here signs in as the same application user,
 * so one 429 holds back all of them, not just the request that received it.
 */
export class ServiceProtectionGate {
  private notBefore = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Dataverse answered 429: nothing is sent before `retryAfterMs` from now. */
  throttled(retryAfterMs: number): void {
    this.notBefore = Math.max(this.notBefore, this.now() + retryAfterMs);
  }

  /** How long the next request has to wait. */
  waitMs(): number {
    return Math.max(0, this.notBefore - this.now());
  }

  /** Resolves once a request may be sent (loops, since another 429 may move the time meanwhile). */
  async pass(): Promise<void> {
    for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) await this.sleep(wait);
  }
}
