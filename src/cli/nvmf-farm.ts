/**
 * nvmf-farm — a farm of storage nodes on this machine: `nvmf-target` processes on loopback, each
 * with one file-backed namespace under DIR/nodeN/ (or, with `--backing memory`, a RAM namespace
 * that a node loses when it stops: for like-for-like comparisons with `nbdkit memory`),
 * described in DIR/farm.json for `nvmf-dpu --farm`.
 * `up` reuses an existing farm (same ports, same files, so the same data). Exit status: 0 done,
 * 1 a node failed to start or stop, 2 a bad argument (one sentence on stderr).
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseSize } from '../bdev/bdev.js';
import { FILE_IO_MODES, type FileIoMode } from '../bdev/file-bdev.js';
import { validateNqn } from '../nvme/nqn.js';
import {
  FARM_FORMAT_VERSION,
  FARM_NSID,
  farmFilePath,
  readFarmDescription,
  writeFarmDescription,
  type FarmDescription,
  type FarmNode,
} from '../dpu/farm-description.js';
import { ConfigError } from '../dpu/schema-check.js';
import { isListening, isNodeProcess, startNodeProcess, stopNodeProcess } from './farm-node.js';

const DEFAULT_DIR = './data';
const DEFAULT_NODES = 3;
const MAX_NODES = 64;
const DEFAULT_BASE_PORT = 4420;
const DEFAULT_SIZE = '1GiB';
const DEFAULT_BLOCK_SIZE = 512;
const BLOCK_SIZES = [512, 4096];
const DEFAULT_ADDR = '127.0.0.1';
const BACKINGS = ['file', 'memory'] as const;
const DEFAULT_BACKING = 'file';
const MAX_TCP_PORT = 65535;
/** Subsystem NQNs of farm nodes: `<prefix>:nodeN` (NVMe Base 2.0, 4.5 reverse-domain form). */
const FARM_NQN_PREFIX = 'nqn.2024-01.io.nvmf-dpu:farm';

const USAGE = `usage: nvmf-farm <command> [options]
  up     [--nodes N] [--dir DIR] [--base-port P] [--size SIZE] [--block-size 512|4096]
         [--addr ADDR] [--allow-host HOSTNQN] [--backing file|memory] [--file-io auto|sync|pool]
                                                 start the farm (reuses DIR/farm.json if present)
  down   [--dir DIR]                             stop every node (data stays in DIR)
  status [--dir DIR] [--json]                    is each node alive and listening?
  stop   NODE [--dir DIR] [--kill]               stop one node (--kill: SIGKILL, as a crash)
  start  NODE [--dir DIR]                        start one node again: same port, same file
defaults: --nodes ${DEFAULT_NODES} --dir ${DEFAULT_DIR} --base-port ${DEFAULT_BASE_PORT} (0: each node picks a free port once)
          --size ${DEFAULT_SIZE} --block-size ${DEFAULT_BLOCK_SIZE} --addr ${DEFAULT_ADDR}; nodes admit any host unless --allow-host
          --backing ${DEFAULT_BACKING} (memory: data is lost when a node stops); --file-io: the nodes' file I/O mode
          (auto, the target's default: pread/pwrite on the event loop, the threadpool while requests are slow;
          sync: always the event loop; pool: always libuv's threadpool)
`;

class UsageError extends Error {}
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const OPTIONS = {
  nodes: { type: 'string' },
  dir: { type: 'string' },
  'base-port': { type: 'string' },
  size: { type: 'string' },
  'block-size': { type: 'string' },
  addr: { type: 'string' },
  'allow-host': { type: 'string' },
  backing: { type: 'string' },
  'file-io': { type: 'string' },
  json: { type: 'boolean' },
  kill: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMANDS: Record<string, { flags: string[]; node: boolean }> = {
  up: {
    flags: [
      'nodes',
      'dir',
      'base-port',
      'size',
      'block-size',
      'addr',
      'allow-host',
      'backing',
      'file-io',
    ],
    node: false,
  },
  down: { flags: ['dir'], node: false },
  status: { flags: ['dir', 'json'], node: false },
  stop: { flags: ['dir', 'kill'], node: true },
  start: { flags: ['dir'], node: true },
};

function integer(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(`--${flag} "${text}" is not a whole number from ${min} to ${max}`);
  }
  return n;
}

interface StatusRow {
  name: string;
  address: string;
  subnqn: string;
  pid: number | null;
  alive: boolean;
  listening: boolean;
}

async function nodeStatus(node: FarmNode): Promise<StatusRow> {
  const alive = await isNodeProcess(node.pid, node.subnqn);
  return {
    name: node.name,
    address: `${node.addr}:${node.port}`,
    subnqn: node.subnqn,
    pid: alive ? node.pid : null,
    alive,
    listening: alive && (await isListening(node.addr, node.port)),
  };
}

function printTable(rows: StatusRow[]): void {
  const table = [
    ['NODE', 'ADDRESS', 'PID', 'ALIVE', 'LISTENING', 'SUBNQN'],
    ...rows.map((r) => [
      r.name,
      r.address,
      r.pid === null ? '-' : String(r.pid),
      r.alive ? 'yes' : 'no',
      r.listening ? 'yes' : 'no',
      r.subnqn,
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) {
    console.log(
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    );
  }
}

function newFarm(v: Record<string, string | boolean | undefined>): FarmDescription {
  const count = integer((v.nodes as string) ?? String(DEFAULT_NODES), 'nodes', 1, MAX_NODES);
  const basePort = integer(
    (v['base-port'] as string) ?? String(DEFAULT_BASE_PORT),
    'base-port',
    0,
    MAX_TCP_PORT - count + 1,
  );
  const blockSize = Number(v['block-size'] ?? DEFAULT_BLOCK_SIZE);
  if (!BLOCK_SIZES.includes(blockSize)) {
    throw new UsageError(
      `--block-size "${v['block-size']}" is not supported; expected 512 or 4096`,
    );
  }
  let size: number;
  try {
    size = parseSize((v.size as string) ?? DEFAULT_SIZE);
  } catch (err) {
    throw new UsageError(`--size: ${(err as Error).message}`);
  }
  if (size < blockSize || size % blockSize !== 0) {
    throw new UsageError(
      `--size ${v.size} is not a positive multiple of the ${blockSize}-byte block`,
    );
  }
  const hostnqn = v['allow-host'] as string | undefined;
  if (hostnqn !== undefined) {
    const problem = validateNqn(hostnqn);
    if (problem) throw new UsageError(`--allow-host: ${problem}`);
  }
  const addr = (v.addr as string) ?? DEFAULT_ADDR;
  const { backing, fileIo } = storageOptions(v);
  const nodes: FarmNode[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `node${i}`;
    nodes.push({
      name,
      addr,
      port: basePort === 0 ? 0 : basePort + i - 1,
      subnqn: `${FARM_NQN_PREFIX}:${name}`,
      pid: null,
      nsid: FARM_NSID,
      file: `${name}/ns${FARM_NSID}.img`,
      log: `${name}/target.log`,
    });
  }
  return {
    version: FARM_FORMAT_VERSION,
    size,
    blockSize: blockSize as 512 | 4096,
    ...(backing !== DEFAULT_BACKING ? { backing } : {}),
    ...(fileIo ? { fileIo } : {}),
    ...(hostnqn ? { hostnqn } : {}),
    nodes,
  };
}

/** --backing and --file-io, checked; --file-io only means something for file backing. */
function storageOptions(v: Record<string, string | boolean | undefined>): {
  backing: (typeof BACKINGS)[number];
  fileIo: FileIoMode | undefined;
} {
  const backing = (v.backing as string | undefined) ?? DEFAULT_BACKING;
  if (!(BACKINGS as readonly string[]).includes(backing)) {
    throw new UsageError(`--backing "${backing}" is not one of ${BACKINGS.join(', ')}`);
  }
  const fileIo = v['file-io'] as string | undefined;
  if (fileIo !== undefined && !(FILE_IO_MODES as readonly string[]).includes(fileIo)) {
    throw new UsageError(`--file-io "${fileIo}" is not one of ${FILE_IO_MODES.join(', ')}`);
  }
  if (fileIo !== undefined && backing !== 'file') {
    throw new UsageError('--file-io applies to file backing only; drop it or use --backing file');
  }
  return { backing: backing as (typeof BACKINGS)[number], fileIo: fileIo as FileIoMode };
}

/** An existing farm must match what `up` asks for, or the user is told how to start afresh. */
function checkReuse(farm: FarmDescription, v: Record<string, unknown>, dir: string): void {
  const mismatch = (what: string, asked: string, has: string) =>
    new UsageError(
      `${dir} already holds a farm with ${what} ${has}, not ${asked}; run \`nvmf-farm down --dir ${dir}\` and remove ${dir} to build a different one`,
    );
  if (v.nodes !== undefined && Number(v.nodes) !== farm.nodes.length) {
    throw mismatch('nodes', String(v.nodes), String(farm.nodes.length));
  }
  if (v.size !== undefined && parseSize(v.size as string) !== farm.size) {
    throw mismatch('size', String(v.size), `${farm.size} bytes`);
  }
  if (v['block-size'] !== undefined && Number(v['block-size']) !== farm.blockSize) {
    throw mismatch('block size', String(v['block-size']), String(farm.blockSize));
  }
  const has = farm.backing ?? DEFAULT_BACKING;
  if (v.backing !== undefined && v.backing !== has) {
    throw mismatch('backing', String(v.backing), has);
  }
}

async function startNodes(file: string, farm: FarmDescription, nodes: FarmNode[]): Promise<void> {
  const results = await Promise.allSettled(
    nodes.map(async (node) => {
      if (await isNodeProcess(node.pid, node.subnqn)) return;
      const { pid, port } = await startNodeProcess(file, farm, node);
      node.pid = pid;
      node.port = port;
    }),
  );
  // Record whatever did start, so that `down` can stop it even when another node failed.
  await writeFarmDescription(file, farm);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function findNode(farm: FarmDescription, name: string | undefined, command: string): FarmNode {
  const node = farm.nodes.find((n) => n.name === name);
  if (!node) {
    throw new UsageError(
      `${command} needs a node name, one of ${farm.nodes.map((n) => n.name).join(', ')}${name ? `; "${name}" is not one` : ''}`,
    );
  }
  return node;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const spec = COMMANDS[command];
  if (!spec) {
    throw new UsageError(
      `unknown command "${command}"; expected one of ${Object.keys(COMMANDS).join(', ')}`,
    );
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  for (const flag of Object.keys(v)) {
    if (!spec.flags.includes(flag)) throw new UsageError(`${command} takes no --${flag} option`);
  }
  if (parsed.positionals.length > (spec.node ? 1 : 0)) {
    throw new UsageError(
      `${command} takes ${spec.node ? 'one node name' : 'no positional argument'}`,
    );
  }
  const dir = resolve((v.dir as string | undefined) ?? DEFAULT_DIR);
  const file = farmFilePath(dir);

  if (command === 'up') {
    let farm: FarmDescription;
    if (existsSync(file)) {
      farm = await readFarmDescription(file);
      checkReuse(farm, v, dir);
      // The I/O mode is no property of the data: nodes started from now on take the new one.
      const { fileIo } = storageOptions({ backing: farm.backing, 'file-io': v['file-io'] });
      if (fileIo) farm.fileIo = fileIo;
    } else {
      farm = newFarm(v);
      await mkdir(dir, { recursive: true });
    }
    await startNodes(file, farm, farm.nodes);
    printTable(await Promise.all(farm.nodes.map(nodeStatus)));
    console.log(`farm description: ${file}`);
    return 0;
  }

  const farm = await readFarmDescription(file);
  if (command === 'down') {
    await Promise.all(farm.nodes.map((node) => stopNodeProcess(node)));
    for (const node of farm.nodes) node.pid = null;
    await writeFarmDescription(file, farm);
    console.log(`stopped ${farm.nodes.length} nodes; data stays in ${dir}`);
    return 0;
  }
  if (command === 'status') {
    const rows = await Promise.all(farm.nodes.map(nodeStatus));
    if (v.json) console.log(JSON.stringify({ farm: file, nodes: rows }, null, 2));
    else printTable(rows);
    return 0;
  }
  const node = findNode(farm, parsed.positionals[0], command);
  if (command === 'stop') {
    await stopNodeProcess(node, { kill: v.kill === true });
    node.pid = null;
    await writeFarmDescription(file, farm);
    console.log(`${node.name} stopped`);
    return 0;
  }
  // start
  if (await isNodeProcess(node.pid, node.subnqn)) {
    console.log(`${node.name} is already running (pid ${node.pid})`);
    return 0;
  }
  await startNodes(file, farm, [node]);
  console.log(`${node.name} listening on ${node.addr}:${node.port} (pid ${node.pid})`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    const usage = err instanceof UsageError || err instanceof ConfigError;
    console.error(`nvmf-farm: ${err.message}`);
    process.exit(usage ? EXIT_USAGE : EXIT_FAILURE);
  },
);
