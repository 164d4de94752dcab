/**
 * The host's view: a real ext4 filesystem on the DPU's mirrored volume, through the chain of
 * ../shared/REAL-CLIENTS.md (nbdfuse → losetup → mkfs.ext4 → mount). A file tree goes on it, the
 * filesystem checks clean, then the DPU and the whole farm are stopped and started again and every
 * file must read back with the same sha256: nothing acknowledged was lost on the way down.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Dpu, farm, farmUp, preflight } from './support/dpu-rig.js';
import { sha256File, tempDir } from './support/processes.js';
import { MountChain } from './support/mount-chain.js';

const NODES = 3;
const NODE_SIZE = '128MiB';
/** A file tree of a few dozen files, sizes from a few bytes to a few MiB. */
const DIRS = ['docs', 'docs/old', 'src/lib', 'media'];
const FILES_PER_DIR = 8;
const MAX_FILE_BYTES = 3 * 1024 * 1024;

async function writeTree(root: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  let n = 0;
  for (const d of DIRS) {
    await mkdir(join(root, d), { recursive: true });
    for (let i = 0; i < FILES_PER_DIR; i++, n++) {
      // Sizes spread over orders of magnitude, some unaligned, deterministic per file.
      const bytes = Math.floor(MAX_FILE_BYTES / (1 + ((n * 7919) % 97))) + (n % 3) * 511;
      const file = join(root, d, `file-${i}.bin`);
      await writeFile(file, randomBytes(bytes));
      hashes.set(relative(root, file), await sha256File(file));
    }
  }
  return hashes;
}

async function listFiles(root: string, under = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(under, { withFileTypes: true })) {
    const p = join(under, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'lost+found') out.push(...(await listFiles(root, p)));
    } else out.push(relative(root, p));
  }
  return out.sort();
}

t.test('ext4 on the mirror survives a stop and start of the DPU and the farm', async (t) => {
  if (!preflight(t, ['nbdfuse', 'losetup', 'mkfs.ext4', 'e2fsck', 'fusermount3'])) return;
  const dir = await tempDir('mount');
  t.teardown(() => dir.remove());
  const farmDir = join(dir.path, 'farm');
  const stateDir = join(dir.path, 'dpu-state');
  const farmFile = join(farmDir, 'farm.json');
  const dpuArgs = ['--farm', farmFile, '--layout', 'mirror', '--state-dir', stateDir];

  await farmUp(farmDir, NODES, NODE_SIZE);
  t.teardown(() => farm(farmDir, 'down'));
  let dpu = await Dpu.start(dpuArgs);
  t.teardown(() => dpu.stop());
  const chain = new MountChain(join(dir.path, 'chain'));
  t.teardown(() => chain.detach());

  await chain.attach(dpu.uri);
  await chain.mkfs();
  await chain.mount();
  const hashes = await writeTree(chain.mountPoint);
  await chain.umount();
  const fsck = await chain.fsck();
  t.equal(fsck.code, 0, `e2fsck -fn finds the filesystem clean ${fsck.stdout}${fsck.stderr}`);
  await chain.detach();

  const stopped = await dpu.stop();
  t.same(stopped, { code: 0, signal: null }, 'the DPU exits 0 on SIGTERM');
  t.ok(
    dpu.logs().some((l) => l.msg === 'stopped'),
    'the DPU logged a clean shutdown',
  );
  const down = await farm(farmDir, 'down');
  t.equal(down.code, 0, 'nvmf-farm down');
  const status = await farm(farmDir, 'status', '--json');
  const rows = (JSON.parse(status.stdout) as { nodes: { alive: boolean }[] }).nodes;
  t.same(
    rows.map((r) => r.alive),
    [false, false, false],
    'every node is stopped',
  );

  await farmUp(farmDir, NODES, NODE_SIZE);
  dpu = await Dpu.start(dpuArgs);
  await chain.attach(dpu.uri);
  await chain.mount();
  t.same(await listFiles(chain.mountPoint), [...hashes.keys()].sort(), 'the same files are there');
  for (const [file, hash] of hashes) {
    t.equal(await sha256File(join(chain.mountPoint, file)), hash, `${file} unchanged`);
  }
  await chain.umount();
  const again = await chain.fsck();
  t.equal(again.code, 0, 'still clean after the restart');
});
