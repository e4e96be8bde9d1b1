import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChildMessage } from './child';

export interface Child {
  process: ChildProcess;
  /** The child's first message (its result, or that it is listening). */
  first: Promise<ChildMessage>;
  stop(): Promise<void>;
}

/** Starts bench/child.ts in its own Node process (TypeScript through tsx, with --expose-gc). */
export function startChild(mode: 'memory' | 'host' | 'bare' | 'large', env: Record<string, string>): Child {
  const child = fork(join(__dirname, 'child.ts'), [], {
    execArgv: [
      '--expose-gc',
      '--import',
      'tsx',
      ...(process.env.BENCH_CHILD_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CHILD_PROFILE}`] : []),
    ],
    env: { ...process.env, ...env, BENCH_CHILD: mode },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const first = new Promise<ChildMessage>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ChildMessage));
    child.once('exit', (code) => reject(new Error(`bench child "${mode}" exited with ${code} before it reported`)));
    child.once('error', reject);
  }).then((m) => {
    if (m.kind === 'error') throw new Error(`bench child "${mode}" failed: ${m.message}`);
    return m;
  });
  first.catch(() => undefined);
  return {
    process: child,
    first,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        if (child.connected) child.disconnect();
        else child.kill('SIGTERM');
      }),
  };
}
