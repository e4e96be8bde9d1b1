/**
 * `npm run demo [-- --url http://localhost:7071] [--run ABC123] [--skip-import]`
 * `npm run demo:dataverse [-- --dataverse-url http://127.0.0.1:7072]` (= `npm run demo -- --dataverse`)
 *
 * Sends a realistic month-end batch (confirmed pro forma invoices and their
 * actuals, in two legal entities and two currencies) to the local host, runs
 * Import from staging, posts the customer invoices through the signed
 * callback, reads everything back and prints a reconciliation. Exit code 0
 * when the outcome is what the batch implies, 1 with the differences when it
 * is not, 2 when the demo could not run. With no host at the URL it starts one
 * in this process (fresh tables) and stops it at the end.
 *
 * With --dataverse the same story starts in Dataverse (scripts/demo/nativeRun.ts):
 * records in the Web API stand-in, the service endpoint's own messages, and
 * at the end what the write-back left on every posted actual.
 */
import { runNativeDemo } from './demo/nativeRun';
import { runDemo, type DemoOptions } from './demo/run';

type Options = DemoOptions & { dataverse?: boolean; dataverseUrl?: string };

function parseArgs(argv: readonly string[]): Options | string {
  const options: Options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--url') options.url = value();
    else if (flag === '--run') options.runId = value();
    else if (flag === '--skip-import') options.skipImport = true;
    else if (flag === '--no-start') options.startHost = false;
    else if (flag === '--dataverse') options.dataverse = true;
    else if (flag === '--dataverse-url') Object.assign(options, { dataverse: true, dataverseUrl: value() });
    else if (flag === '--help' || flag === '-h') return 'help';
    else return `unknown argument ${arg}`;
  }
  return options;
}

const usage = `usage: npm run demo -- [--url <local host url>] [--run <RUNID>] [--skip-import] [--no-start]
       npm run demo:dataverse -- [--dataverse-url <url>] [--url <local host url>] [--run <RUNID>] [--no-start]
  --url          the local host (default DEMO_URL, or http://localhost:$PORT, 7071)
  --run          run id used in the proposal ids, 1-11 capital letters or digits (default random)
  --skip-import  do not run Import from staging (the outcome then differs: exit 1)
  --no-start     fail instead of starting a local host when none answers
  --dataverse    the month-end from Dataverse's side: records in the Dataverse Web API stand-in (started here),
                 native service-endpoint messages, the write-back shown per actual (npm run demo:dataverse)
  --dataverse-url  a Dataverse (stand-in) already running, which the host's DATAVERSE_URL names (default DATAVERSE_URL)`;

const options = parseArgs(process.argv.slice(2));
if (typeof options === 'string') {
  console.log(options === 'help' ? usage : `${options}\n${usage}`);
  process.exit(options === 'help' ? 0 : 2);
}
const { dataverse, dataverseUrl, skipImport, ...common } = options;
if (dataverse && skipImport) {
  console.log(`--skip-import is for the contract demo only\n${usage}`);
  process.exit(2);
}
(dataverse ? runNativeDemo({ ...common, ...(dataverseUrl ? { dataverseUrl } : {}) }) : runDemo(options)).then(
  (r) => process.exit(r.exitCode),
  (e: Error) => {
    console.error(e);
    process.exit(2);
  },
);
