/**
 * nvmf-dpu — the DPU: connects to storage nodes over NVMe/TCP, builds the virtual namespace
 * (single, concat, stripe or mirror) and exports it to the host over NBD. Prints the NBD URI on
 * stdout when ready; logs (pino) go to stderr, pretty on a terminal. SIGINT/SIGTERM: stop
 * accepting, close the NBD sessions, flush, disconnect the controllers, exit 0.
 * Exit status: 0 clean shutdown, 1 a failure at run time, 2 a bad flag or config (one sentence).
 */
import { writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { NbdServer } from '../shim/nbd/index.js';
import { VirtualNamespace } from '../dpu/virtual-namespace.js';
import { ConfigError } from '../dpu/schema-check.js';
import {
  DEFAULT_EXPORT_NAME,
  DEFAULT_NBD_LISTEN,
  parseHostPort,
  type DpuConfig,
} from '../dpu/dpu-config.js';
import { parseDpuCommandLine, USAGE } from './dpu-flags.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function makeLogger(level: string): Logger {
  const options = { level, name: 'nvmf-dpu' };
  if (process.stderr.isTTY) {
    return pino(options, pretty({ destination: 2, colorize: true, sync: true }));
  }
  // Synchronous writes: the last lines before an exit are not lost.
  return pino(options, pino.destination({ fd: 2, sync: true }));
}

const uriHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

async function run(config: DpuConfig, log: Logger): Promise<void> {
  const exportName = config.exportName ?? DEFAULT_EXPORT_NAME;
  const vns = await VirtualNamespace.open(config, { logger: log, name: exportName });
  // One NbdServer per endpoint; every session of both shares the one volume (multi-conn).
  const exports = [
    {
      name: exportName,
      bdev: vns.bdev,
      description: `nvmf-dpu ${vns.layout} over ${vns.legs.length} leg(s)`,
      // Write Zeroes goes to the storage nodes as NVMe Write Zeroes: no zeroes cross the wire.
      fastZero: true,
    },
  ];
  const servers: NbdServer[] = [];
  const uris: string[] = [];
  const closeServers = () => Promise.all(servers.map((s) => s.close()));
  try {
    const tcp = config.nbdListen ?? (config.nbdSocket ? undefined : DEFAULT_NBD_LISTEN);
    if (tcp !== undefined) {
      const server = new NbdServer({ exports, logger: log });
      servers.push(server);
      const bound = await server.listen(parseHostPort(tcp, '--nbd-listen'));
      if ('port' in bound) uris.push(`nbd://${uriHost(bound.host)}:${bound.port}/${exportName}`);
    }
    if (config.nbdSocket !== undefined) {
      const server = new NbdServer({ exports, logger: log });
      servers.push(server);
      await server.listen({ path: config.nbdSocket });
      uris.push(`nbd+unix:///${exportName}?socket=${config.nbdSocket}`);
    }
  } catch (err) {
    await closeServers().catch(() => undefined);
    await vns.close();
    throw new Error(`the NBD endpoint cannot be opened: ${(err as Error).message}`, {
      cause: err,
    });
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without a clean shutdown');
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    log.info({ signal }, 'shutting down: closing NBD sessions, flushing, disconnecting');
    void (async () => {
      let code = EXIT_OK;
      try {
        await closeServers();
      } catch (err) {
        code = EXIT_FAILURE;
        log.error({ err: (err as Error).message }, 'closing the NBD server failed');
      }
      await vns.close();
      if (config.nbdSocket !== undefined) rmSync(config.nbdSocket, { force: true });
      log.info('stopped');
      process.exit(code);
    })();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  log.info({ uris, size: vns.size, layout: vns.layout }, 'serving');
  for (const uri of uris) process.stdout.write(`${uri}\n`);
}

async function main(): Promise<void> {
  let cmd;
  try {
    cmd = await parseDpuCommandLine(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`nvmf-dpu: ${(err as Error).message}\n`);
    process.exit(EXIT_USAGE);
  }
  if (cmd.help || !cmd.config) {
    process.stdout.write(USAGE);
    process.exit(EXIT_OK);
  }
  const config = cmd.config;
  if (cmd.saveConfig) {
    try {
      await writeFile(cmd.saveConfig, JSON.stringify(config, null, 2) + '\n');
    } catch (err) {
      process.stderr.write(
        `nvmf-dpu: --save-config ${cmd.saveConfig}: ${(err as Error).message}\n`,
      );
      process.exit(EXIT_USAGE);
    }
  }
  const log = makeLogger(config.logLevel ?? 'info');
  // A stray rejection deep in a leg's reconnect must not take the host's disk away: log it loudly.
  process.on('unhandledRejection', (reason) => {
    log.error(
      { err: reason instanceof Error ? reason.stack : String(reason) },
      'unhandled rejection',
    );
  });
  try {
    await run(config, log);
  } catch (err) {
    const usage = err instanceof ConfigError;
    log.error({ err: (err as Error).message }, 'cannot start');
    process.stderr.write(`nvmf-dpu: ${(err as Error).message}\n`);
    process.exit(usage ? EXIT_USAGE : EXIT_FAILURE);
  }
}

void main();
