import type { TableClient } from '@azure/data-tables';
import type { Timer } from '@azure/functions';
import type { TimerFunction } from '../shared/hosting/definition';
import type { Invocations, LogLine } from './invocation';
import { nextOccurrence, parseSchedule, type Schedule } from './ncrontab';

/**
 * Runs timer functions on their NCRONTAB schedules. The next due time is kept
 * in a table, so a run missed while the host was down happens at start-up with
 * `isPastDue: true`, as the Functions host's schedule monitor does. A timer
 * never overlaps with itself.
 */
export class TimerScheduler {
  private readonly handles = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly followUps = new Map<string, Promise<void>>();
  /** Timers switched off (AzureWebJobs.<name>.Disabled), and those of them whose scheduled run was skipped. */
  private readonly paused = new Set<string>();
  private readonly skipped = new Set<string>();
  private readonly defs = new Map<string, { def: TimerFunction; expression: string }>();
  private stopped = false;

  constructor(
    private readonly status: TableClient,
    private readonly invocations: Invocations,
    private readonly log: LogLine,
  ) {}

  async start(def: TimerFunction, expression: string): Promise<void> {
    const schedule = parseSchedule(expression);
    this.defs.set(def.name, { def, expression });
    let last = '';
    let due: Date | undefined;
    try {
      const row = await this.status.getEntity<{ next: string; last: string }>('timer', def.name);
      last = row.last;
      due = new Date(row.next);
    } catch {
      due = undefined;
    }
    const now = new Date();
    if (due && due < now) {
      this.log('information', def.name, `missed its run due ${due.toISOString()}; running now (isPastDue)`);
      void this.fire(def, schedule, { isPastDue: true, last });
    } else {
      await this.arm(def, schedule, last, due ?? nextOccurrence(schedule, now));
    }
  }

  private async arm(def: TimerFunction, schedule: Schedule, last: string, next: Date): Promise<void> {
    if (this.stopped) return;
    await this.status.upsertEntity(
      { partitionKey: 'timer', rowKey: def.name, next: next.toISOString(), last, lastUpdated: new Date().toISOString() },
      'Replace',
    );
    const delay = Math.max(0, next.getTime() - Date.now());
    // setTimeout holds at most ~24.8 days; re-arm in steps for rarer schedules.
    const step = Math.min(delay, 2 ** 31 - 1);
    this.handles.set(
      def.name,
      setTimeout(
        () =>
          void (step < delay
            ? this.arm(def, schedule, last, next)
            : this.fire(def, schedule, { isPastDue: Date.now() - next.getTime() > 1000, last })),
        step,
      ),
    );
  }

  /**
   * Runs a timer now (the admin call). If a run is in progress, one more run
   * follows it, so work that arrived after that run began is not left for the
   * next schedule; requests made meanwhile share that follow-up.
   */
  run(def: TimerFunction, expression: string, isPastDue = false): Promise<void> {
    const schedule = parseSchedule(expression);
    const inProgress = this.running.get(def.name);
    if (!inProgress) return this.fire(def, schedule, { isPastDue, last: '' }, false);
    let followUp = this.followUps.get(def.name);
    if (!followUp) {
      followUp = inProgress.then(() => {
        this.followUps.delete(def.name);
        return this.fire(def, schedule, { isPastDue, last: '' }, false);
      });
      this.followUps.set(def.name, followUp);
    }
    return followUp;
  }

  private fire(def: TimerFunction, schedule: Schedule, state: { isPastDue: boolean; last: string }, rearm = true): Promise<void> {
    const inProgress = this.running.get(def.name);
    if (inProgress) return inProgress;
    if (rearm && this.paused.has(def.name)) {
      this.skipped.add(def.name);
      this.log('information', def.name, 'scheduled run skipped: switched off (AzureWebJobs.<name>.Disabled); runs once when switched on');
      return this.arm(def, schedule, state.last, nextOccurrence(schedule, new Date()));
    }
    const startedAt = new Date();
    const next = nextOccurrence(schedule, startedAt);
    const timer: Timer = {
      isPastDue: state.isPastDue,
      schedule: { adjustForDST: false },
      scheduleStatus: { last: state.last, next: next.toISOString(), lastUpdated: startedAt.toISOString() },
    };
    const run = this.invocations
      .track(Promise.resolve().then(() => def.handler(timer, this.invocations.context(def.name))))
      .then(
        () => undefined,
        (e: Error) => this.log('error', def.name, `run failed: ${e.message}`),
      )
      .finally(async () => {
        this.running.delete(def.name);
        if (rearm) await this.arm(def, schedule, startedAt.toISOString(), nextOccurrence(schedule, new Date()));
      });
    this.running.set(def.name, run);
    return run;
  }

  /** Switched off: scheduled runs are skipped (and remembered); a run in progress finishes. */
  pause(name: string): void {
    this.paused.add(name);
  }

  /**
   * Switched on again: if a scheduled run was skipped meanwhile, one run now
   * (isPastDue), as the Functions host's schedule monitor does for a run missed
   * while the app was stopped; then the schedule as before.
   */
  resume(name: string): Promise<void> {
    this.paused.delete(name);
    const known = this.defs.get(name);
    if (!this.skipped.delete(name) || !known || this.stopped) return Promise.resolve();
    this.log('information', name, 'switched on again after skipping a scheduled run; running now (isPastDue)');
    return this.run(known.def, known.expression, true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const h of this.handles.values()) clearTimeout(h);
    await Promise.allSettled([...this.running.values()]);
  }
}
