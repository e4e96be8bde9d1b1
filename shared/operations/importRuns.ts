import type { ImportRun } from '../contracts/operations';
import { importFromStaging, type ImportSummary } from '../pipeline/importFromStaging';
import type { Logger, Runtime } from '../runtime';

function described(s: ImportSummary): string {
  const o = s.outcomes;
  return (
    `${s.proposals} proposal(s): ${o.LinesCreated} got their lines, ${o.AwaitingLines} wait for actuals, ` +
    `${o.Error} in error, ${o.WaitingForHeader} wait for their header; ${s.linesWritten} line(s) written`
  );
}

/**
 * Import from staging as the schedule or an operator runs it, timed and
 * recorded (the summary's "last import"). A failed run is recorded too and
 * then thrown, so the Functions host counts it failed and the alert sees it.
 */
export async function runImport(
  rt: Runtime,
  trigger: ImportRun['trigger'],
  log: Logger,
): Promise<{ summary: ImportSummary; run: ImportRun }> {
  const started = rt.now();
  const finish = (outcome: ImportRun['outcome'], detail: string): ImportRun => {
    const finished = rt.now();
    return {
      trigger,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      outcome,
      detail,
    };
  };
  let summary: ImportSummary;
  try {
    summary = await importFromStaging(rt, log);
  } catch (e) {
    await rt.importRuns
      .record(finish('failed', (e as Error).message))
      .catch((r: unknown) => log.warn(`import run not recorded: ${String(r)}`));
    throw e;
  }
  const run = finish('succeeded', described(summary));
  await rt.importRuns.record(run);
  return { summary, run };
}
