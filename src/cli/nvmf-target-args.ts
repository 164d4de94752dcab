/**
 * The command line of nvmf-target, turned into the one TargetConfig the config file also gives
 * (src/target/config.ts), so flags and file cannot mean different things.
 */
import { parseArgs } from 'node:util';
import {
  type TargetConfig,
  type ListenerConfig,
  loadTargetConfig,
  parseTargetConfig,
} from '../target/config.js';
import { validateNqn } from '../nvme/nqn.js';
import { parseBdevSpec } from '../bdev/index.js';

/** A mistake on the command line: exit status 2. */
export class UsageError extends Error {}

const DEFAULT_LISTEN = '127.0.0.1:4420';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const USAGE = `usage: nvmf-target --listen HOST:PORT --nqn NQN --ns SPEC [--ns SPEC …]
                   (--allow-any-host | --allow-host HOSTNQN [--allow-host HOSTNQN …])
       nvmf-target --config FILE [--listen HOST:PORT …]
  --listen HOST:PORT        listen for NVMe/TCP (repeatable; default ${DEFAULT_LISTEN}; port 0 = any free port)
  --discovery-listen H:P    one more listener (every listener serves discovery too; 8009 is the convention)
  --nqn NQN                 subsystem NQN, e.g. nqn.2024-01.io.example:vol0
  --ns SPEC                 namespace: mem:SIZE[:BS], null:SIZE[:BS] or file:PATH:SIZE[:BS][:io=MODE] (repeatable)
                            MODE auto (default) | sync | pool: file I/O on the event loop (pread/pwrite),
                            on libuv's threadpool, or on the event loop until requests get slow (cold file)
  --serial SN --model MN    Identify Controller serial (≤20) and model (≤40) strings
  --allow-any-host          any host NQN may connect
  --allow-host HOSTNQN      only these host NQNs may connect (repeatable)
  --config FILE             read listeners, subsystems and namespaces from a JSON file
  --save-config FILE        write the effective configuration (with NSIDs, NGUIDs, UUIDs) and go on
  --log-level LEVEL         ${LOG_LEVELS.join('|')} (default info)
`;

/** Parses HOST:PORT or [IPv6]:PORT. */
export function parseListen(text: string): ListenerConfig {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(`--listen "${text}" is not HOST:PORT (e.g. 127.0.0.1:4420 or [::1]:4420)`);
  }
  return { host: m[1] ?? m[2], port };
}

export const hostPort = (host: string, port: number): string =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

export interface Invocation {
  config: TargetConfig;
  saveTo?: string;
  logLevel: string;
}

/** Builds the configuration the flags describe. */
export async function parseCommandLine(argv: string[]): Promise<Invocation | 'help'> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: 'string', multiple: true },
        'discovery-listen': { type: 'string', multiple: true },
        nqn: { type: 'string' },
        ns: { type: 'string', multiple: true },
        serial: { type: 'string' },
        model: { type: 'string' },
        'allow-any-host': { type: 'boolean' },
        'allow-host': { type: 'string', multiple: true },
        config: { type: 'string' },
        'save-config': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
  if (values.help) return 'help';
  const logLevel = values['log-level'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`--log-level "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const listeners = [...(values.listen ?? []), ...(values['discovery-listen'] ?? [])].map(
    parseListen,
  );
  const anyHost = values['allow-any-host'] ?? false;
  const hosts = values['allow-host'] ?? [];
  const subsystemFlags = ['nqn', 'ns', 'serial', 'model', 'allow-any-host', 'allow-host'] as const;

  let config: TargetConfig;
  if (values.config) {
    const clash = subsystemFlags.find((f) => values[f] !== undefined);
    if (clash) {
      throw new UsageError(
        `--${clash} cannot be combined with --config; put the subsystem in the file`,
      );
    }
    config = await loadTargetConfig(values.config);
    if (listeners.length > 0) config.listeners = listeners;
  } else {
    if (!values.nqn) throw new UsageError('give --nqn NQN (or --config FILE)');
    if (!values.ns?.length)
      throw new UsageError('give at least one --ns SPEC, e.g. --ns mem:64MiB');
    if (anyHost === hosts.length > 0) {
      throw new UsageError('give either --allow-any-host or one or more --allow-host HOSTNQN');
    }
    // Checked here so a mistake is reported before anything starts.
    for (const [flag, nqn] of [['--nqn', values.nqn], ...hosts.map((h) => ['--allow-host', h])]) {
      const problem = validateNqn(nqn);
      if (problem) throw new UsageError(`${flag}: ${problem}`);
    }
    for (const spec of values.ns) {
      try {
        parseBdevSpec(spec);
      } catch (err) {
        throw new UsageError(`--ns: ${(err as Error).message}`);
      }
    }
    config = parseTargetConfig(
      {
        listeners: listeners.length > 0 ? listeners : [parseListen(DEFAULT_LISTEN)],
        subsystems: [
          {
            nqn: values.nqn,
            ...(values.serial !== undefined ? { serial: values.serial } : {}),
            ...(values.model !== undefined ? { model: values.model } : {}),
            allowAnyHost: anyHost,
            allowedHosts: hosts,
            namespaces: values.ns.map((bdev) => ({ bdev })),
          },
        ],
      },
      'the command line',
    );
  }
  return { config, saveTo: values['save-config'], logLevel };
}
