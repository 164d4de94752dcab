/**
 * nvmf-target — one storage node: NVMe/TCP listeners, subsystems and namespaces, from flags for
 * the quick case or from a JSON config file (README "Target configuration").
 *
 *   nvmf-target --listen 127.0.0.1:4420 --nqn NQN --ns mem:64MiB[:4096] [--ns file:PATH:SIZE]
 *               (--allow-any-host | --allow-host HOSTNQN …) [--config FILE] [--save-config FILE]
 *
 * Prints `listening on HOST:PORT` on stdout per listener once it serves; logs go to stderr
 * (pretty on a terminal). Exit status: 0 after SIGINT/SIGTERM closed everything, 1 a failure
 * while starting or running, 2 a bad argument; errors are one sentence on stderr.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { TargetConfigError, saveTargetConfig, startTargetFromConfig } from '../target/config.js';
import type { NvmfTarget } from '../target/nvmf-target.js';
import { UsageError, USAGE, hostPort, parseCommandLine } from './nvmf-target-args.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function makeLogger(level: string): Logger {
  if (process.stderr.isTTY) {
    return pino({ level }, pretty({ destination: 2, colorize: true, sync: true }));
  }
  return pino({ level }, pino.destination({ fd: 2, sync: true }));
}

/** Closes the target once on SIGINT/SIGTERM (flushing every bdev); a second signal exits at once. */
function closeOnSignals(target: NvmfTarget, log: Logger): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(EXIT_FAILURE);
    closing = true;
    log.info({ signal }, 'closing');
    target.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'close failed');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main(argv: string[]): Promise<void> {
  const inv = await parseCommandLine(argv);
  if (inv === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const log = makeLogger(inv.logLevel);
  const started = await startTargetFromConfig(inv.config, { logger: log });
  closeOnSignals(started.target, log);
  if (inv.saveTo) await saveTargetConfig(inv.saveTo, started.effective);
  for (const a of started.addresses)
    process.stdout.write(`listening on ${hostPort(a.host, a.port)}\n`);
}

/** Bad flags, a bad config, a bad NQN or bdev spec (RangeError from the validators): exit 2. */
const isUserMistake = (err: unknown): boolean =>
  err instanceof UsageError || err instanceof TargetConfigError || err instanceof RangeError;

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`nvmf-target: ${message}\n`);
  if (err instanceof UsageError) process.stderr.write('run nvmf-target --help for the options\n');
  process.exit(isUserMistake(err) ? EXIT_USAGE : EXIT_FAILURE);
});
