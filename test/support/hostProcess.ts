import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../host/azurite';

const ROOT = join(__dirname, '..', '..');

export interface HostProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The compiled local host (or `scripts/start.js`, as `npm start` runs it) in its own process.
 * A free port can be taken by another process before the host binds it (tests run in
 * parallel): without an explicit port, a host that exits with EADDRINUSE is started again
 * on another one.
 */
export async function spawnHost(
  env: Record<string, string>,
  opts: { entry?: 'host' | 'npm-start'; port?: number; readyWithinMs?: number } = {},
): Promise<HostProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startHost(env, opts.port ?? (await freePort()), opts);
    } catch (e) {
      if (opts.port !== undefined || attempt >= 5 || !(e instanceof PortTaken)) throw e;
    }
  }
}

class PortTaken extends Error {}

async function startHost(
  env: Record<string, string>,
  port: number,
  opts: { entry?: 'host' | 'npm-start'; readyWithinMs?: number },
): Promise<HostProcess> {
  const entry = opts.entry === 'npm-start' ? join(ROOT, 'scripts', 'start.js') : join(ROOT, 'dist', 'host', 'main.js');
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.once('exit', (code, signal) => ok({ code, signal })),
  );
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + (opts.readyWithinMs ?? 30_000);
  // Ready when this process says so: another host that holds the port must not be taken for it.
  const readyLine = `ready on ${url}`;
  for (;;) {
    if (child.exitCode !== null) {
      if (out.includes('EADDRINUSE')) throw new PortTaken(`port ${port} was taken:\n${out}`);
      throw new Error(`host exited early:\n${out}`);
    }
    try {
      const status = await fetch(`${url}/admin/host/status`, {
        headers: env.LOCAL_FUNCTION_KEY ? { 'x-functions-key': env.LOCAL_FUNCTION_KEY } : {},
      });
      if (status.ok && out.includes(readyLine)) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`host not ready within ${opts.readyWithinMs ?? 30_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => out,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function adminCall(url: string, functionName: string, input: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/admin/functions/${functionName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ input: typeof input === 'string' ? input : JSON.stringify(input) }),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A GET of the host, with its status and JSON body (undefined when the body is not JSON). */
export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}
