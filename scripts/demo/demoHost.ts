import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LocalHost } from '../../host/localHost';
import { loadLocalEnvironment } from '../../host/localSettings';
import { postingSecrets } from '../../shared/http/webhookSignature';
import { RUN_ID } from './batch';
import { HostClient } from './client';

/** The repository root (holds host.json), from scripts/demo or dist/scripts/demo. */
export function findRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'host.json')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error('cannot find the project root (host.json)');
  }
}

const newRunId = () =>
  BigInt(`0x${randomBytes(5).toString('hex')}`)
    .toString(36)
    .toUpperCase()
    .padStart(6, '0')
    .slice(-6);

export type DemoSettings = {
  readonly print: (line: string) => void;
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  /** The local host: the option, DEMO_URL, or http://localhost:{PORT or 7071}. */
  readonly url: string;
  readonly runId: string;
  /** Why the run id cannot be used, if it cannot. */
  readonly runIdProblem?: string;
};

/** What both demos read the same way: where output goes, the settings, the host's URL, the run id. */
export function demoSettings(o: { url?: string; runId?: string; env?: NodeJS.ProcessEnv; print?: (line: string) => void }): DemoSettings {
  const root = findRoot();
  const env = loadLocalEnvironment(root, o.env ?? process.env);
  const runId = o.runId ?? newRunId();
  return {
    print: o.print ?? ((line: string) => console.log(line)),
    root,
    env,
    url: (o.url ?? env.DEMO_URL ?? `http://localhost:${env.PORT ?? 7071}`).replace(/\/+$/, ''),
    runId,
    ...(RUN_ID.test(runId) ? {} : { runIdProblem: `run id ${JSON.stringify(runId)}: must be 1 to 11 capital letters or digits` }),
  };
}

/** A local host the demo started in its own process, with fresh tables; stop() also prints its last problems when asked. */
export interface DemoHost {
  readonly url: string;
  readonly note: string;
  stop(showProblems: boolean): Promise<void>;
}

/**
 * Starts the local host (what `npm start` runs) in this process on the URL's
 * port, with tables of its own (a fresh prefix) so a run never sees another's
 * rows. Ctrl-C stops it (and its Azurite) before leaving.
 */
export async function startDemoHost(
  root: string,
  env: NodeJS.ProcessEnv,
  url: string,
  print: (line: string) => void,
  extraNote = '',
): Promise<DemoHost> {
  const prefix = `demo${randomBytes(4).toString('hex')}`;
  const hostLog: string[] = [];
  const { startLocalHost } = await import('../../host/localHost');
  const host: LocalHost = await startLocalHost({
    root,
    env: { ...env, PORT: new URL(url).port || '80', TABLE_PREFIX: prefix },
    log: (level, fn, message) => void hostLog.push(`${level} ${fn}: ${message}`),
  });
  const interrupt = (signal: NodeJS.Signals) => void host.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  return {
    url: host.url,
    note: `local host started by the demo, Azurite ${host.azurite}, tables ${prefix}*${extraNote}`,
    async stop(showProblems) {
      const problems = hostLog.filter((l) => /^(error|warning)/.test(l));
      if (showProblems && problems.length)
        print(
          `\nHost warnings and errors (last ${Math.min(10, problems.length)}):\n${problems
            .slice(-10)
            .map((l) => `  ${l}`)
            .join('\n')}`,
        );
      await host.stop();
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    },
  };
}

export type ReachedHost = { client: HostClient; note: string; host?: DemoHost; alreadyRunning: boolean } | { refused: string };

/**
 * The host the demo talks to: the one answering at `url`, or, when nothing
 * listens on a local address (and `startHost` is not false), one started here
 * with `hostEnv` laid over the settings.
 */
export async function reachHost(o: {
  root: string;
  env: NodeJS.ProcessEnv;
  url: string;
  startHost?: boolean | undefined;
  print: (line: string) => void;
  hostEnv?: NodeJS.ProcessEnv;
  note?: string;
}): Promise<ReachedHost> {
  const signing = { functionKey: o.env.LOCAL_FUNCTION_KEY, secret: postingSecrets(o.env.POSTING_WEBHOOK_SECRET)[0] };
  const running = new HostClient(o.url, signing);
  const probe = await running.probe();
  if (probe === 'up') return { client: running, note: 'running host', alreadyRunning: true };
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(new URL(o.url).hostname);
  if (probe !== 'down' || !local || o.startHost === false) {
    return {
      refused:
        probe === 'down'
          ? `Nothing answers at ${o.url}. Start it with \`npm start\`, or point the demo at a host with --url.`
          : `${o.url} answered ${probe} to GET /admin/host/status: that is not a local host this demo can use (LOCAL_FUNCTION_KEY?).`,
    };
  }
  const host = await startDemoHost(o.root, { ...o.env, ...o.hostEnv }, o.url, o.print, o.note);
  return { client: new HostClient(host.url, signing), note: host.note, host, alreadyRunning: false };
}
