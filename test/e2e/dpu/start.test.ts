/**
 * `npm start` (tools/start.mjs): a farm and a mirrored DPU come up, the banner names the NBD URI
 * and the mount and bench commands; Ctrl-C (SIGINT) stops the DPU and the farm; a second start
 * reuses the farm's data. Ephemeral ports (--base-port 0, --nbd-listen 127.0.0.1:0) and a
 * temporary --data keep it off the defaults a developer may be running.
 */
import t from 'tap';
import { join } from 'node:path';
import { farm, logLines, preflight } from './support/dpu-rig.js';
import { Child, ROOT, killIfRunning, onExitSync, run, tempDir } from './support/processes.js';

/**
 * Starts npm start's script; resolves once the banner is out. The DPU runs in its own process
 * group, so its pid (from its log) is also killed at exit should the suite die half-way.
 */
async function start(data: string): Promise<{ child: Child; uri: string }> {
  const child = Child.spawn(process.execPath, [
    join(ROOT, 'tools', 'start.mjs'),
    '--data',
    data,
    '--base-port',
    '0',
    '--size',
    '32MiB',
    '--nbd-listen',
    '127.0.0.1:0',
  ]);
  const m = await child.waitForStdout(/^\s+(nbd:\/\/127\.0\.0\.1:\d+\/vol0)$/);
  const dpuPid = await child.waitFor(
    'the DPU to log that it serves',
    () => logLines(child).find((l) => l.msg === 'serving')?.pid,
  );
  onExitSync(() => killIfRunning(Number(dpuPid), 'nvmf-dpu'));
  return { child, uri: m[1] };
}

t.test('npm start: farm + mirrored DPU, banner, Ctrl-C, data reused', async (t) => {
  if (!preflight(t, ['nbdinfo', 'qemu-io'])) return;
  const dir = await tempDir('start');
  t.teardown(() => dir.remove());
  const data = join(dir.path, 'data');

  const first = await start(data);
  t.teardown(() => first.child.stop('SIGINT'));
  t.teardown(() => farm(data, 'down'));
  const banner = first.child.stdoutLines.join('\n');
  t.match(banner, /nvmf-dpu is serving a mirrored volume over 3 storage nodes/);
  for (const cmd of [
    'nbdfuse -P',
    'losetup -f --show',
    'mkfs.ext4',
    'mount $dev',
    'fio --name=randread --ioengine=nbd',
    'nvmf-bench',
  ]) {
    t.ok(banner.includes(cmd), `the banner shows ${cmd}`);
  }
  const info = await run('nbdinfo', ['--size', first.uri]);
  t.equal(info.stdout.trim(), String(32 * 1024 * 1024), 'the export is the size of one node');
  const write = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x3c 1M 256k', first.uri]);
  t.equal(write.code, 0, 'write through the started system');

  const ended = await first.child.stop('SIGINT');
  t.same(ended, { code: 0, signal: null }, 'Ctrl-C: npm start exits 0');
  const status = await farm(data, 'status', '--json');
  t.same(
    (JSON.parse(status.stdout) as { nodes: { alive: boolean }[] }).nodes.map((n) => n.alive),
    [false, false, false],
    'and the farm is down',
  );

  const second = await start(data);
  t.teardown(() => second.child.stop('SIGINT'));
  const read = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0x3c 1M 256k', second.uri]);
  t.equal(read.code, 0, 'a second start serves the same data');
  t.notMatch(read.stdout, /Pattern verification failed/);
  t.same(await second.child.stop('SIGINT'), { code: 0, signal: null });
});
