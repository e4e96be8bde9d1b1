/**
 * `npm run replay -- <command>`: lists, shows and replays quarantined and
 * dead-lettered messages (docs/design.md#nothing-lost-nothing-silent).
 * `--help` says how; the work is in scripts/replay/.
 */
import { main, type Io } from './replay/cli';

export { main, type Io };

if (require.main === module) {
  const io: Io = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
    cwd: process.cwd(),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
      // Open sockets (keep-alive, AMQP) must not hold the command line up.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (e: unknown) => {
      process.stderr.write(`replay: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
