/**
 * npm run bench — issue 7's measurements in one run against an in-memory
 * Azurite of its own; prints the table and writes bench/results.json.
 *
 *   npm run bench -- --quick           the same without the 50,000-line invoice (BENCH_SCALE=quick)
 *   BENCH_SCALE=tiny npm run bench     every code path in seconds (figures meaningless)
 *   BENCH_OUT=path.json                write the results somewhere else
 *   BENCH_ONLY=1,2                     only these measurements (while working on one)
 *   BENCH_CHILD_PROFILE=dir            CPU-profile the helper processes (import, local host, bare server) into dir
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable, summaryLine } from './report';
import { runBench } from './suite';

async function main(): Promise<void> {
  const out = process.env.BENCH_OUT ?? join(__dirname, 'results.json');
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const results = await runBench({
    scale: process.argv.includes('--quick') ? 'quick' : process.env.BENCH_SCALE,
    log: (line) => console.error(line),
    ...(only ? { only } : {}),
  });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(markdownTable(results));
  console.log();
  console.log(summaryLine(results));
  console.log(`results: ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
