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

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
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
