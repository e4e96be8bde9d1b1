import { readdirSync, readFileSync } from 'node:fs';
import { startAzurite, type RunningAzurite } from '../host/azurite';

/**
 * The bench's Azurite: host/azurite.ts's in-memory Table service in its own
 * process, plus its process id, so the bench can read how much CPU Azurite
 * spent on each measurement (Linux /proc; null elsewhere).
 */
export interface BenchAzurite extends RunningAzurite {
  pid: number | null;
  /** CPU seconds (user + system) Azurite's process has used so far, or null when unknown. */
  cpuSeconds(): number | null;
}

function findPid(port: number): number | null {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        const at = args.indexOf('--tablePort');
        if (at >= 0 && args[at + 1] === String(port) && args.some((a) => a.includes('azurite'))) return Number(entry);
      } catch {
        // a process that ended while we looked
      }
    }
  } catch {
    // no /proc
  }
  return null;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function cpuOf(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
  } catch {
    return null;
  }
}

export async function startBenchAzurite(): Promise<BenchAzurite> {
  const azurite = await startAzurite();
  const pid = findPid(azurite.port);
  let stopped = false;
  const kill = () => {
    if (!stopped && pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', kill); // never leave an Azurite behind, whatever happens to the bench
  return {
    ...azurite,
    pid,
    cpuSeconds: () => cpuOf(pid),
    stop: async () => {
      stopped = true;
      process.removeListener('exit', kill);
      await azurite.stop();
    },
  };
}
