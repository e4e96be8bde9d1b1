import { join } from 'node:path';
import { settings } from '../shared/config';
import { timerScheduleExpression } from '../shared/hosting/definition';
import { resolveAppSettingReferences } from './appSettingReferences';
import { startLocalHost } from './localHost';

/** `npm start`: the local host, until Ctrl-C or SIGTERM. */
async function main(): Promise<void> {
  const root = join(__dirname, '..', '..');
  const startedAt = Date.now();
  const host = await startLocalHost({ root });
  const lines = host.functions.map((d) => {
    if (d.kind === 'http') return `  ${d.name}: [${d.methods.join(',')}] ${host.url}/api/${d.route}`;
    if (d.kind === 'timer')
      return `  ${d.name}: timer (${resolveAppSettingReferences(timerScheduleExpression(d), settings())}), run now: POST ${host.url}/admin/functions/${d.name}`;
    return `  ${d.name}: Service Bus queue ${d.queueName}, send: POST ${host.url}/admin/functions/${d.name} {"input": "<message>"}`;
  });
  console.log(
    `\nFunctions:\n\n${lines.join('\n')}\n\nLocal host ready on ${host.url} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (Azurite: ${host.azurite}). Ctrl-C stops it.\n`,
  );

  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) process.exit(1); // a second Ctrl-C does not wait
    console.log(`${signal}: finishing in-flight invocations, then stopping`);
    host.stop().then(
      () => process.exit(0),
      (e) => (console.error(e), process.exit(1)),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: Error) => {
  console.error(`The local host did not start: ${e.message}`);
  process.exit(1);
});
