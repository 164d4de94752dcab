#!/usr/bin/env node
// `npm start`: the embedded default system. Builds dist/ when the sources are newer, starts a
// 3-node farm under ./data (an existing one is reused: same ports, same files, same data), then
// nvmf-dpu with a mirror over the farm, and prints the NBD URI with the commands to mount and to
// bench it. Ctrl-C stops the DPU (it closes its sessions, flushes, disconnects), then the farm.
//
//   npm start [-- [--data DIR] [--base-port P] [--size SIZE] [nvmf-dpu options …]]
//
// --data/--base-port/--size go to `nvmf-farm up` (defaults ./data, 4420, 1GiB; they matter only
// when the farm is first made); every other argument goes to nvmf-dpu, e.g. --nbd-listen.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODES = '3';
const MOUNT_BASE = '/tmp/nvmf-dpu';
const ENTRY_POINTS = ['nvmf-target', 'nvmf-farm', 'nvmf-dpu', 'nvmf-bench'].map((n) =>
  join(ROOT, 'dist', 'cli', `${n}.js`),
);
const FARM_OPTIONS = new Set(['--base-port', '--size']);

function parseArgv(argv) {
  let data = join(ROOT, 'data');
  const farmArgs = [];
  const dpuArgs = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split(/=(.*)/s);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--data') {
      const dir = value();
      data = isAbsolute(dir) ? dir : resolve(process.cwd(), dir);
    } else if (FARM_OPTIONS.has(flag)) farmArgs.push(flag, value());
    else dpuArgs.push(arg);
  }
  return { data, farmArgs, dpuArgs };
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function buildIfStale() {
  const built = ENTRY_POINTS.filter(existsSync).map((f) => statSync(f).mtimeMs);
  const fresh =
    built.length === ENTRY_POINTS.length && Math.min(...built) >= newestMtime(join(ROOT, 'src'));
  if (fresh) return;
  console.log('building dist/ (the sources changed) …');
  const res = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (res.status !== 0) {
    console.error('npm start: the build failed; fix the errors above and run it again');
    process.exit(1);
  }
}

const bin = (name) => join(ROOT, 'bin', `${name}.js`);

function banner(uri, data) {
  const img = `${MOUNT_BASE}/fuse/disk.img`;
  const rel = relative(process.cwd(), data);
  const dir = rel === '' ? '.' : rel.startsWith('..') ? data : rel;
  console.log(`
nvmf-dpu is serving a mirrored volume over ${NODES} storage nodes:

    ${uri}

Look at it:
    nbdinfo ${uri}

Mount it (as root; no nbd kernel module needed: FUSE and a loop device):
    mkdir -p ${MOUNT_BASE}/fuse ${MOUNT_BASE}/mnt && touch ${img}
    nbdfuse -P ${MOUNT_BASE}/nbdfuse.pid ${img} ${uri} >${MOUNT_BASE}/nbdfuse.log 2>&1 &
    dev=$(losetup -f --show ${img})
    mkfs.ext4 -q $dev                  # the first time only
    mount $dev ${MOUNT_BASE}/mnt
  and to detach it:
    umount ${MOUNT_BASE}/mnt && losetup -d $dev && fusermount3 -u ${img}

Bench it:
    fio --name=randread --ioengine=nbd --uri=${uri} --rw=randread --bs=4k --iodepth=32 --runtime=10 --time_based
    npx nvmf-bench --name=randread --ioengine=nbd --uri=${uri} --rw=randread --bs=4k --iodepth=32 --runtime=10 --time_based

Fail a node and watch the mirror resync it (the DPU logs the blocks it copies):
    npx nvmf-farm status --dir ${dir}
    npx nvmf-farm stop node2 --dir ${dir}      then      npx nvmf-farm start node2 --dir ${dir}

Ctrl-C stops the DPU and the farm; the data stays in ${dir}/.
`);
}

const { data, farmArgs, dpuArgs } = parseArgv(process.argv.slice(2));
const farm = (...args) =>
  spawnSync(process.execPath, [bin('nvmf-farm'), ...args, '--dir', data], { stdio: 'inherit' })
    .status;

buildIfStale();
if (farm('up', '--nodes', NODES, ...farmArgs) !== 0) {
  console.error(`npm start: the farm did not start; see ${join(data, 'node*', 'target.log')}`);
  process.exit(1);
}

// The DPU runs in its own process group: a Ctrl-C reaches only this script, which stops the DPU
// once and in order (a second signal would make the DPU skip its clean shutdown).
// The DPU's V8 heap flags and malloc environment (src/cli/node-flags.ts), as its bin script's
// #! line gives them.
const { DATA_PATH_NODE_FLAGS, dataPathEnv } = await import(
  pathToFileURL(join(ROOT, 'dist', 'cli', 'node-flags.js')).href
);
const dpu = spawn(
  process.execPath,
  [
    ...DATA_PATH_NODE_FLAGS,
    bin('nvmf-dpu'),
    '--farm',
    join(data, 'farm.json'),
    '--layout',
    'mirror',
    '--state-dir',
    join(data, 'dpu'),
    ...dpuArgs,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: dataPathEnv() },
);
createInterface({ input: dpu.stdout }).on('line', (line) => {
  if (line.startsWith('nbd://')) banner(line, data);
  else console.log(line);
});

let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the DPU, then the farm …`);
  dpu.kill('SIGTERM');
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

dpu.on('exit', (code, signal) => {
  if (!stopping) {
    console.error(`npm start: nvmf-dpu exited (${signal ?? `status ${code}`}); stopping the farm`);
  }
  farm('down');
  process.exit(stopping && code === 0 ? 0 : 1);
});
