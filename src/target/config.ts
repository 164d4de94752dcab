/**
 * The target's configuration, typed once (TypeBox) and shared by the JSON file (`--config`,
 * `--save-config`), the command line (which builds the same object) and the admin API.
 *
 *   {
 *     "listeners": [{ "host": "127.0.0.1", "port": 4420 }],
 *     "subsystems": [{
 *       "nqn": "nqn.2024-01.io.example:vol0",
 *       "serial": "VOL0", "model": "nvmf-dpu",
 *       "allowAnyHost": false,
 *       "allowedHosts": ["nqn.2014-08.org.nvmexpress:uuid:…"],
 *       "namespaces": [
 *         { "nsid": 1, "bdev": "mem:64MiB:4096" },
 *         { "nsid": 2, "bdev": { "type": "file", "path": "/var/lib/vol0.img", "size": "1GiB",
 *                                "io": "auto" },
 *           "nguid": "…32 hex…", "uuid": "…-…" }
 *       ]
 *     }]
 *   }
 */
import { readFile, writeFile, rename } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import { createBdevFromSpec, parseBdevSpec, type Bdev } from '../bdev/index.js';
import { NvmfTarget, type ListenAddress } from './nvmf-target.js';
import { formatUuid } from './namespace.js';

const MAX_TCP_PORT = 65535;
const NQN_MAX_LENGTH = 223;
const MAX_NSID = 1024;

export const ListenerSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      description: 'address to bind, e.g. 127.0.0.1, ::1, 0.0.0.0',
    }),
    port: Type.Integer({ minimum: 0, maximum: MAX_TCP_PORT, description: '0 picks a free port' }),
  },
  { additionalProperties: false },
);

export const BdevObjectSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('mem'), Type.Literal('null'), Type.Literal('file')]),
    path: Type.Optional(
      Type.String({ minLength: 1, description: 'file or block device (type file)' }),
    ),
    size: Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 1 })], {
      description: 'bytes, or a size like 64MiB',
    }),
    blockSize: Type.Optional(Type.Union([Type.Literal(512), Type.Literal(4096)])),
    io: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('sync'), Type.Literal('pool')], {
        description:
          'type file: auto (default) = pread/pwrite on the event loop while the page cache serves, the threadpool after slow requests; sync = always on the event loop; pool = always the libuv threadpool',
      }),
    ),
  },
  { additionalProperties: false },
);

export const NamespaceSchema = Type.Object(
  {
    nsid: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_NSID })),
    bdev: Type.Union([
      Type.String({
        minLength: 1,
        description: 'mem:SIZE[:BS], null:SIZE[:BS] or file:PATH:SIZE[:BS][:io=auto|sync|pool]',
      }),
      BdevObjectSchema,
    ]),
    nguid: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$' })),
    uuid: Type.Optional(
      Type.String({
        pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
      }),
    ),
  },
  { additionalProperties: false },
);

export const SubsystemSchema = Type.Object(
  {
    nqn: Type.String({ minLength: 1, maxLength: NQN_MAX_LENGTH }),
    serial: Type.Optional(Type.String({ maxLength: 20 })),
    model: Type.Optional(Type.String({ maxLength: 40 })),
    allowAnyHost: Type.Boolean({ default: false }),
    allowedHosts: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    namespaces: Type.Array(NamespaceSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export const TargetConfigSchema = Type.Object(
  {
    listeners: Type.Array(ListenerSchema, { minItems: 1 }),
    subsystems: Type.Array(SubsystemSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export type TargetConfig = Static<typeof TargetConfigSchema>;
export type ListenerConfig = Static<typeof ListenerSchema>;
export type SubsystemConfig = Static<typeof SubsystemSchema>;
export type NamespaceConfig = Static<typeof NamespaceSchema>;
export type BdevConfig = NamespaceConfig['bdev'];

/** A configuration mistake: one sentence naming the bad value and what is expected. */
export class TargetConfigError extends Error {
  readonly code = 'TARGET_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'TargetConfigError';
  }
}

/** Fills defaults and checks `value` against the schema; TargetConfigError on the first problem. */
export function parseTargetConfig(value: unknown, source = 'the configuration'): TargetConfig {
  const withDefaults = Value.Default(TargetConfigSchema, structuredClone(value));
  const first = Value.Errors(TargetConfigSchema, withDefaults).First();
  if (first) {
    const where = first.path === '' ? 'the top level' : first.path;
    throw new TargetConfigError(`${source}: ${where} ${first.message.toLowerCase()}`);
  }
  return withDefaults as TargetConfig;
}

export async function loadTargetConfig(path: string): Promise<TargetConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TargetConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TargetConfigError(`config file ${path} is not JSON: ${(err as Error).message}`);
  }
  return parseTargetConfig(json, `config file ${path}`);
}

/** Writes `cfg` as indented JSON, atomically (temporary file, then rename). */
export async function saveTargetConfig(path: string, cfg: TargetConfig): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(cfg, null, 2)}\n`);
  await rename(tmp, path);
}

/** The `kind:…` spec of a bdev given as a string or an object. */
export function bdevSpecOf(b: BdevConfig): string {
  if (typeof b === 'string') return b;
  const tail = `${b.size}${b.blockSize ? `:${b.blockSize}` : ''}`;
  if (b.type === 'file') {
    if (!b.path) throw new TargetConfigError('a bdev of type file needs a path');
    return `file:${b.path}:${tail}${b.io ? `:io=${b.io}` : ''}`;
  }
  if (b.io) throw new TargetConfigError(`io is an option of file bdevs, not of type ${b.type}`);
  return `${b.type}:${tail}`;
}

/** What keeps a namespace's NGUID/UUID stable: the absolute path of a file bdev. */
function identityOf(spec: string, name: string): string {
  const s = parseBdevSpec(spec);
  return s.kind === 'file' ? resolvePath(s.path) : name;
}

export interface StartedTarget {
  target: NvmfTarget;
  addresses: ListenAddress[];
  /** `cfg` with every namespace's NSID, NGUID and UUID filled in: save it to keep them. */
  effective: TargetConfig;
}

/**
 * Builds the subsystems and namespaces of `cfg` (opening its bdevs) and starts its listeners.
 * On any failure everything opened so far is closed again and the error is rethrown.
 */
export async function startTargetFromConfig(
  input: TargetConfig,
  opts: { logger?: Logger } = {},
): Promise<StartedTarget> {
  const cfg = parseTargetConfig(input);
  const target = new NvmfTarget({ logger: opts.logger });
  const opened: Bdev[] = [];
  try {
    for (const sc of cfg.subsystems) {
      const sub = target.addSubsystem(sc);
      for (const nc of sc.namespaces) {
        const spec = bdevSpecOf(nc.bdev);
        const name = `${sc.nqn}/ns${nc.nsid ?? sub.namespaces.length + 1}`;
        const bdev = await createBdevFromSpec(spec, name);
        opened.push(bdev);
        const ns = sub.addNamespace(bdev, {
          nsid: nc.nsid,
          nguid: nc.nguid,
          uuid: nc.uuid,
          identity: identityOf(spec, name),
        });
        nc.nsid = ns.nsid;
        nc.nguid = ns.nguid.toString('hex');
        nc.uuid = formatUuid(ns.uuid);
      }
    }
    const addresses: ListenAddress[] = [];
    for (const l of cfg.listeners) addresses.push(await target.listen(l));
    return { target, addresses, effective: cfg };
  } catch (err) {
    await target.close();
    // Bdevs opened for a namespace that was never added are not the target's to close.
    const owned = new Set(target.subsystems.flatMap((s) => s.namespaces.map((n) => n.bdev)));
    await Promise.allSettled(opened.filter((b) => !owned.has(b)).map((b) => b.close()));
    throw err;
  }
}
