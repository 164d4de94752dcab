/**
 * The DPU's configuration, typed once (STYLE.md 12): the same TypeBox schema checks a `--config`
 * file and the command line, whose flags are this schema's keys in kebab-case (`nbdListen` is
 * `--nbd-listen`), so the two cannot drift. Semantic rules the schema cannot say (exactly one leg
 * source, a stripe size only for stripes) are checked in `checkDpuConfig` with one sentence each.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Kind, Type, type Static, type TSchema } from '@sinclair/typebox';
import { parseSize } from '../bdev/bdev.js';
import { parseTransportId } from '../initiator/index.js';
import { checkSchema, ConfigError } from './schema-check.js';

export const LAYOUTS = ['single', 'concat', 'stripe', 'mirror'] as const;
export type Layout = (typeof LAYOUTS)[number];

export const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** The NBD port IANA assigned (NBD protocol document, "Transport"). */
export const NBD_DEFAULT_PORT = 10809;
export const DEFAULT_NBD_LISTEN = `127.0.0.1:${NBD_DEFAULT_PORT}`;
export const DEFAULT_EXPORT_NAME = 'vol0';
/** RAID-0 chunk when none is given: SPDK's raid bdev and mdadm both default to 64 KiB-512 KiB. */
export const DEFAULT_STRIPE_SIZE = '64KiB';
/** Write-intent bitmap granularity when none is given: one bit per 1 MiB, as md's bitmap chunk is sized. */
export const DEFAULT_REGION_SIZE = '1MiB';

const SIZE_PATTERN = '^\\d+(\\.\\d+)?\\s*([kKmMgGtTpP]i?[bB]?)?$';
const SizeSchema = Type.Union(
  [Type.Integer({ minimum: 1 }), Type.String({ pattern: SIZE_PATTERN })],
  { description: 'a size in bytes, such as 65536 or 64KiB' },
);

export const DpuConfigSchema = Type.Object(
  {
    connect: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'tcp://HOST:PORT/SUBNQN of each leg, in layout order',
      }),
    ),
    discover: Type.Optional(
      Type.String({ minLength: 1, description: 'HOST:PORT of a discovery controller' }),
    ),
    farm: Type.Optional(Type.String({ minLength: 1, description: 'path to a farm.json' })),
    layout: Type.Union(LAYOUTS.map((l) => Type.Literal(l))),
    stripeSize: Type.Optional(SizeSchema),
    regionSize: Type.Optional(SizeSchema),
    nbdListen: Type.Optional(Type.String({ minLength: 1, description: 'HOST:PORT' })),
    nbdSocket: Type.Optional(Type.String({ minLength: 1, description: 'unix socket path' })),
    exportName: Type.Optional(Type.String({ minLength: 1 })),
    stateDir: Type.Optional(Type.String({ minLength: 1 })),
    hostnqn: Type.Optional(Type.String({ minLength: 1 })),
    reconnectDelayMs: Type.Optional(Type.Integer({ minimum: 1 })),
    maxReconnectDelayMs: Type.Optional(Type.Integer({ minimum: 1 })),
    logLevel: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)))),
  },
  { additionalProperties: false },
);

export type DpuConfig = Static<typeof DpuConfigSchema>;

/** A config key as an option name: `nbdListen` is `nbd-listen` (the flag `--nbd-listen`). */
export const optionNameOf = (key: string): string =>
  key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const KEY_OF_OPTION = new Map(
  Object.keys(DpuConfigSchema.properties).map((key) => [optionNameOf(key), key]),
);

/** The config key an option name stands for, or undefined when it names none. */
export const configKeyOf = (option: string): keyof DpuConfig | undefined =>
  KEY_OF_OPTION.get(option) as keyof DpuConfig | undefined;

/** What kind of value a key takes on a command line: repeatable list, whole number or text. */
export function optionKind(key: keyof DpuConfig): 'list' | 'integer' | 'text' {
  const schema = DpuConfigSchema.properties[key] as TSchema;
  if (schema[Kind] === 'Array') return 'list';
  if (schema[Kind] === 'Integer') return 'integer';
  return 'text';
}

/** A value as typed on a command line, converted to the schema's type (integers are numbers). */
export function optionValue(key: keyof DpuConfig, text: string): string | number {
  if (optionKind(key) !== 'integer') return text;
  if (!/^\d+$/.test(text)) {
    throw new ConfigError(`--${optionNameOf(key)} "${text}" is not a whole number`);
  }
  return Number(text);
}

/** Keys whose values are paths; a config file's relative paths are taken from its own folder. */
const PATH_KEYS = ['farm', 'nbdSocket', 'stateDir'] as const;

/**
 * Checks the schema and the rules between fields; returns the config or throws a ConfigError.
 * `nameOf` renders a field's JSON pointer as the user wrote it (a flag, or a key of a file).
 */
export function checkDpuConfig(
  value: unknown,
  what = 'configuration',
  nameOf?: (path: string) => string,
): DpuConfig {
  const cfg = checkSchema(DpuConfigSchema, value, what, nameOf);
  const lead = what ? `${what}: ` : '';
  const sources = (['connect', 'discover', 'farm'] as const).filter((k) => cfg[k] !== undefined);
  if (sources.length !== 1) {
    throw new ConfigError(
      sources.length === 0
        ? `${lead}the configuration names no storage: give --connect tcp://HOST:PORT/SUBNQN, --discover HOST:PORT or --farm DIR/farm.json`
        : `${lead}the configuration names storage twice (${sources.join(' and ')}); give exactly one of connect, discover or farm`,
    );
  }
  if (cfg.stripeSize !== undefined && cfg.layout !== 'stripe') {
    throw new ConfigError(
      `${lead}a stripe size applies only to --layout stripe, not ${cfg.layout}`,
    );
  }
  if (cfg.regionSize !== undefined && cfg.layout !== 'mirror') {
    throw new ConfigError(
      `${lead}a region size applies only to --layout mirror, not ${cfg.layout}`,
    );
  }
  if (cfg.layout === 'single' && cfg.connect && cfg.connect.length !== 1) {
    throw new ConfigError(
      `${lead}--layout single takes one leg, got ${cfg.connect.length}; use concat, stripe or mirror for more`,
    );
  }
  if (cfg.layout === 'mirror' && cfg.connect && cfg.connect.length < 2) {
    throw new ConfigError(`${lead}--layout mirror needs at least two legs, got 1`);
  }
  for (const key of ['stripeSize', 'regionSize'] as const) {
    const v = cfg[key];
    if (typeof v === 'string') {
      try {
        parseSize(v);
      } catch (err) {
        throw new ConfigError(`${lead}${key}: ${(err as Error).message}`);
      }
    }
  }
  for (const text of cfg.connect ?? []) {
    let id;
    try {
      id = parseTransportId(text);
    } catch (err) {
      throw new ConfigError(`${lead}--connect: ${(err as Error).message}`);
    }
    if (!id.subnqn) {
      throw new ConfigError(
        `${lead}--connect "${text}" names no subsystem; expected tcp://HOST:PORT/SUBNQN`,
      );
    }
  }
  for (const key of ['nbdListen', 'discover'] as const) {
    const v = cfg[key];
    if (v !== undefined) parseHostPort(v, key === 'nbdListen' ? '--nbd-listen' : '--discover');
  }
  return cfg;
}

/** A copy of `cfg` whose path values are absolute, taken relative to `base`. */
export function resolveConfigPaths<T extends Record<string, unknown>>(cfg: T, base: string): T {
  const out: Record<string, unknown> = { ...cfg };
  for (const key of PATH_KEYS) {
    const v = out[key];
    if (typeof v === 'string' && !isAbsolute(v)) out[key] = resolve(base, v);
  }
  return out as T;
}

/** Reads a JSON config file; relative paths in it are resolved against the file's folder. */
export async function loadDpuConfigFile(file: string): Promise<Partial<DpuConfig>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`--config ${file} cannot be used: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(`--config ${file} must hold one JSON object`);
  }
  const cfg = resolveConfigPaths(json as Record<string, unknown>, dirname(file));
  return cfg as Partial<DpuConfig>;
}

/** A size field in bytes (the schema admits a number of bytes or a size string). */
export function sizeInBytes(value: number | string | undefined, fallback: string): number {
  if (value === undefined) return parseSize(fallback);
  return typeof value === 'number' ? value : parseSize(value);
}

export interface HostPort {
  host: string;
  port: number;
}

/** Parses HOST:PORT (IPv6 in brackets); `flag` names the option in the error sentence. */
export function parseHostPort(text: string, flag: string, defaultPort?: number): HostPort {
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[2] !== undefined ? Number(m[2]) : defaultPort;
  if (!m || port === undefined || port > 65535) {
    throw new ConfigError(
      `${flag} "${text}" is not HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:${NBD_DEFAULT_PORT}`,
    );
  }
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port };
}
