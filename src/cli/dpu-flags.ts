/**
 * nvmf-dpu's command line, derived from the config schema (STYLE.md 12): every key of
 * DpuConfigSchema is a flag in kebab-case, an array key is repeatable, an integer key takes a
 * number. Values from `--config FILE` come first; flags given on the command line override them,
 * and a leg source on the command line (--connect, --discover, --farm) replaces the file's.
 */
import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import {
  DpuConfigSchema,
  checkDpuConfig,
  loadDpuConfigFile,
  optionKind,
  optionNameOf,
  optionValue,
  resolveConfigPaths,
  type DpuConfig,
} from '../dpu/dpu-config.js';
import { ConfigError } from '../dpu/schema-check.js';

export const USAGE = `usage: nvmf-dpu (--connect tcp://HOST:PORT/SUBNQN … | --discover HOST:PORT | --farm DIR/farm.json)
                [--layout single|concat|stripe|mirror] [--stripe-size 64KiB] [--region-size 1MiB]
                [--nbd-listen HOST:PORT] [--nbd-socket PATH] [--export-name vol0]
                [--state-dir DIR] [--hostnqn NQN] [--log-level info] [--config FILE] [--save-config FILE]
  --connect       a leg's transport ID (repeat, in layout order)
  --discover      take every NVMe subsystem the discovery controller at HOST:PORT lists (port 8009 by default)
  --farm          take the nodes of an nvmf-farm (farm.json)
  --layout        single (one leg), concat, stripe (RAID-0) or mirror (RAID-1); default single for one leg, else mirror
  --nbd-listen    NBD over TCP; default 127.0.0.1:10809 unless only --nbd-socket is given
  --state-dir     where the mirror keeps its write-intent bitmap across restarts (default: DIR/dpu for --farm DIR/farm.json)
  --reconnect-delay-ms / --max-reconnect-delay-ms   leg reconnect backoff
prints nbd://HOST:PORT/EXPORT (and nbd+unix:///EXPORT?socket=PATH) on stdout when ready; logs go to stderr.
`;

/** Options of the command line that are not configuration keys. */
const CLI_ONLY = {
  config: { type: 'string' },
  'save-config': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LEG_SOURCES = ['connect', 'discover', 'farm'] as const;

const KEYS = Object.keys(DpuConfigSchema.properties) as (keyof DpuConfig)[];

function flagOptions() {
  const options: Record<
    string,
    { type: 'string' | 'boolean'; multiple?: boolean; short?: string }
  > = { ...CLI_ONLY };
  for (const key of KEYS) {
    options[optionNameOf(key)] = {
      type: 'string',
      ...(optionKind(key) === 'list' ? { multiple: true } : {}),
    };
  }
  return options;
}

export interface DpuCommandLine {
  help: boolean;
  config?: DpuConfig;
  saveConfig?: string;
}

/** Parses argv into a checked DpuConfig; throws a ConfigError with one sentence on a mistake. */
export async function parseDpuCommandLine(argv: string[]): Promise<DpuCommandLine> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: flagOptions(),
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new ConfigError(parseArgsSentence((err as Error).message));
  }
  const v = parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  if (v.help) return { help: true };

  const fromFile: Partial<DpuConfig> = v.config ? await loadDpuConfigFile(v.config as string) : {};
  const fromArgs: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = v[optionNameOf(key)];
    if (typeof value === 'string') fromArgs[key] = optionValue(key, value);
    else if (value !== undefined) fromArgs[key] = value;
  }
  // Paths on the command line are the shell's: relative to the working directory.
  Object.assign(fromArgs, resolveConfigPaths(fromArgs, process.cwd()));
  const merged: Record<string, unknown> = { ...fromFile };
  if (LEG_SOURCES.some((k) => fromArgs[k] !== undefined)) {
    for (const k of LEG_SOURCES) delete merged[k];
  }
  Object.assign(merged, fromArgs);
  merged.layout ??= defaultLayout(merged);
  const what = v.config ? `--config ${v.config as string}` : '';
  // A field is named as the user gave it: a flag when it came from the command line.
  const nameOf = (path: string) => {
    const key = path.split('/')[1] ?? '';
    return key in fromArgs ? `--${optionNameOf(key)}` : path;
  };
  const config = checkDpuConfig(merged, what, nameOf);
  if (config.layout === 'mirror' && config.stateDir === undefined && config.farm) {
    config.stateDir = join(dirname(config.farm), 'dpu');
  }
  return { help: false, config, saveConfig: v['save-config'] as string | undefined };
}

/** One explicit leg: single; anything else: mirror, the layout that keeps data when a node fails. */
function defaultLayout(cfg: Record<string, unknown>): string {
  return Array.isArray(cfg.connect) && cfg.connect.length === 1 ? 'single' : 'mirror';
}

/** node:util parseArgs messages, reworded as this CLI's one sentence. */
function parseArgsSentence(message: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}; nvmf-dpu --help lists the options`;
  const positional = /^Unexpected argument '([^']*)'/.exec(message);
  if (positional) {
    return `nvmf-dpu takes no positional argument ("${positional[1]}"); give legs with --connect tcp://HOST:PORT/SUBNQN`;
  }
  const first = message.replace(/\. To specify a(n option argument| positional).*$/s, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}
