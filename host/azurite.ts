import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { developmentStorage } from '../shared/storage/tables';

/**
 * Azurite's Table service as a child process: in memory for tests and
 * benchmarks, or persisted under a folder for the local host.
 */
export interface RunningAzurite {
  port: number;
  connectionString: string;
  stop(): Promise<void>;
}

/** Whether `port` can be bound on the loopback address right now. */
function canListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

/**
 * A port to listen on, free now. Chosen below Linux's ephemeral range (32768 and up):
 * a port the kernel hands out there can be taken by any outgoing connection (a test's
 * HTTP client, say) before the server that asked for it binds it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await canListen(20_000 + Math.floor(Math.random() * 12_000));
    if (port) return port;
  }
  const port = await canListen(0);
  if (!port) throw new Error('no free port on 127.0.0.1');
  return port;
}

export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export async function startAzurite(
  options: { port?: number; location?: string; log?: (line: string) => void } = {},
): Promise<RunningAzurite> {
  const port = options.port ?? (await freePort());
  const args = [
    require.resolve('azurite/dist/src/table/main.js'),
    '--tablePort',
    String(port),
    '--tableHost',
    '127.0.0.1',
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--silent',
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      options.log?.(chunk.toString().trimEnd());
      if (output.includes('successfully started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code} before it started:\n${output}`));
    });
  });
  return {
    port,
    connectionString: developmentStorage(`http://127.0.0.1:${port}`),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
