#!/usr/bin/env node
// `npm start`: the embedded default system. Builds dist/ when the sources are newer, starts a
// 3-node farm under ./data (an existing one is reused: same ports, same files, same data), then
// nvmf-dpu with a mirror over the farm, and prints the NBD URI with the commands to mount and to
// bench it. Ctrl-C stops the DPU (it flushes and disconnects) and then the farm.
// Extra arguments go to nvmf-dpu: `npm start -- --nbd-listen 127.0.0.1:10810 --log-level debug`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = 'data';
const NODES = '3';
const MOUNT_BASE = '/tmp/nvmf-dpu';
const ENTRY_POINTS = ['nvmf-target', 'nvmf-farm', 'nvmf-dpu', 'nvmf-bench'].map((n) =>
  join(ROOT, 'dist', 'cli', `${n}.js`),
);

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
  console.log('building dist/ (sources changed) …');
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

function farm(...args) {
  return spawnSync(process.execPath, [bin('nvmf-farm'), ...args, '--dir', DATA], {
    cwd: ROOT,
    stdio: 'inherit',
  }).status;
}

function banner(uri) {
  const img = `${MOUNT_BASE}/fuse/disk.img`;
  const rel = relative(process.cwd(), join(ROOT, DATA)) || '.';
  console.log(`
nvmf-dpu is serving a mirrored volume over ${NODES} storage nodes:

    ${uri}

Look at it:
    nbdinfo ${uri}

Mount it (as root; no nbd kernel module needed — FUSE and a loop device):
    mkdir -p ${MOUNT_BASE}/fuse ${MOUNT_BASE}/mnt && touch ${img}
    nbdfuse -P ${MOUNT_BASE}/nbdfuse.pid ${img} ${uri} >${MOUNT_BASE}/nbdfuse.log 2>&1 &
    dev=$(losetup -f --show ${img})
    mkfs.ext4 -q $dev                 # first time only
    mount $dev ${MOUNT_BASE}/mnt
  and to detach it:
    umount ${MOUNT_BASE}/mnt && losetup -d $dev && fusermount3 -u ${img}

Bench it:
    fio --name=randread --ioengine=nbd --uri=${uri} --rw=randread --bs=4k --iodepth=32 --runtime=10 --time_based
    npx nvmf-bench --name=randread --ioengine=nbd --uri=${uri} --rw=randread --bs=4k --iodepth=32 --runtime=10 --time_based

Fail a node and watch the mirror resync it:
    npx nvmf-farm status --dir ${rel}
    npx nvmf-farm stop node2 --dir ${rel}  …  npx nvmf-farm start node2 --dir ${rel}

Ctrl-C stops the DPU and the farm (the data stays in ${rel}/).
`);
}

buildIfStale();
if (farm('up', '--nodes', NODES) !== 0) {
  console.error('npm start: the farm did not start; see the node logs under data/node*/target.log');
  process.exit(1);
}

const dpu = spawn(
  process.execPath,
  [
    bin('nvmf-dpu'),
    '--farm',
    join(DATA, 'farm.json'),
    '--layout',
    'mirror',
    '--state-dir',
    join(DATA, 'dpu'),
    ...process.argv.slice(2),
  ],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
);
createInterface({ input: dpu.stdout }).on('line', (line) => {
  if (line.startsWith('nbd://')) banner(line);
  else console.log(line);
});

// Ctrl-C reaches the DPU directly (same process group); a SIGTERM sent to this script is passed on.
let stopping = false;
process.on('SIGINT', () => {
  stopping = true;
});
process.on('SIGTERM', () => {
  stopping = true;
  dpu.kill('SIGTERM');
});

dpu.on('exit', (code, signal) => {
  if (!stopping) {
    console.error(`npm start: nvmf-dpu exited (${signal ?? `status ${code}`}); stopping the farm`);
  }
  farm('down');
  process.exit(stopping && code === 0 ? 0 : 1);
});
