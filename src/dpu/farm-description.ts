/**
 * The farm description (`DIR/farm.json`): what `nvmf-farm up` started and where, read by
 * `nvmf-dpu --farm` and the bench's `dpu` ioengine. Paths inside are relative to the directory
 * that holds the file, so a farm directory can be moved as a whole.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { checkSchema, ConfigError } from './schema-check.js';

export const FARM_FILE_NAME = 'farm.json';
export const FARM_FORMAT_VERSION = 1;
const MAX_TCP_PORT = 65535;
/** The namespace every farm node exports its file on (one namespace per node). */
export const FARM_NSID = 1;

export const FarmNodeSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]*$' }),
    addr: Type.String({ minLength: 1 }),
    /** The port the node listens on; fixed after its first start so restarts keep it. */
    port: Type.Integer({ minimum: 0, maximum: MAX_TCP_PORT }),
    subnqn: Type.String({ minLength: 1 }),
    /** The nvmf-target process, or null when the node is stopped. */
    pid: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    nsid: Type.Integer({ minimum: 1 }),
    /** Backing file of the namespace, relative to the farm directory. */
    file: Type.String({ minLength: 1 }),
    /** Target log (stdout and stderr of the node), relative to the farm directory. */
    log: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

export const FarmDescriptionSchema = Type.Object(
  {
    version: Type.Literal(FARM_FORMAT_VERSION),
    /** Namespace size in bytes, the same on every node. */
    size: Type.Integer({ minimum: 1 }),
    blockSize: Type.Union([Type.Literal(512), Type.Literal(4096)]),
    /** What holds each node's namespace: its file (default), or memory (lost when the node stops). */
    backing: Type.Optional(Type.Union([Type.Literal('file'), Type.Literal('memory')])),
    /** I/O mode of file namespaces (nvmf-target `file:…:io=MODE`); absent = the target's default. */
    fileIo: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('sync'), Type.Literal('pool')]),
    ),
    /** The only host NQN the nodes admit; absent when they allow any host. */
    hostnqn: Type.Optional(Type.String({ minLength: 1 })),
    nodes: Type.Array(FarmNodeSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type FarmNode = Static<typeof FarmNodeSchema>;
export type FarmDescription = Static<typeof FarmDescriptionSchema>;

/** Where farm.json lives for a farm directory or a path to the file itself. */
export function farmFilePath(dirOrFile: string): string {
  return dirOrFile.endsWith('.json') ? dirOrFile : join(dirOrFile, FARM_FILE_NAME);
}

/** A path from farm.json made absolute against the farm directory. */
export function resolveFarmPath(farmFile: string, relative: string): string {
  return isAbsolute(relative) ? relative : join(dirname(farmFile), relative);
}

/** Reads and checks farm.json; a missing or malformed file gets one sentence naming it. */
export async function readFarmDescription(file: string): Promise<FarmDescription> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `${file} does not exist; start a farm with \`nvmf-farm up --dir ${dirname(file)}\` first`
        : `${file} cannot be read: ${(err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not JSON: ${(err as Error).message}`);
  }
  return checkSchema(FarmDescriptionSchema, json, file);
}

/** Writes farm.json atomically (temp file + rename), so a reader never sees half a file. */
export async function writeFarmDescription(file: string, farm: FarmDescription): Promise<void> {
  checkSchema(FarmDescriptionSchema, farm, 'farm description');
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(farm, null, 2) + '\n');
  await rename(tmp, file);
}

/** The transport ID of a node's namespace, as `nvmf-dpu --connect` takes it. */
export function nodeTransportId(node: FarmNode): string {
  const host = node.addr.includes(':') ? `[${node.addr}]` : node.addr;
  return `tcp://${host}:${node.port}/${node.subnqn}?nsid=${node.nsid}`;
}
