/**
 * Runs the Dataverse stand-in on its own: `npx tsx test/dataverse/simulator/main.ts [seed.json] [--port N]`.
 * seed.json maps entity sets to rows, e.g. { "accounts": [{ "accountnumber": "US-001" }] }.
 * Prints the URL to use as DATAVERSE_URL and serves until interrupted.
 */
import { readFileSync } from 'node:fs';
import { startDataverseSimulator } from './server';

async function main(args: string[]): Promise<void> {
  const portAt = args.indexOf('--port');
  const port = portAt === -1 ? 0 : Number(args[portAt + 1]);
  const seedFile = args.find((a, i) => !a.startsWith('--') && i !== portAt + 1);
  const seed = seedFile ? (JSON.parse(readFileSync(seedFile, 'utf8')) as Record<string, Record<string, unknown>[]>) : {};
  const simulator = await startDataverseSimulator({ seed, port });
  console.log(`Dataverse stand-in (not Dataverse) listening: DATAVERSE_URL=${simulator.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void simulator.close().then(() => process.exit(0)));
}

void main(process.argv.slice(2));
