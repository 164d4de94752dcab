/**
 * The mount chain of ../shared/REAL-CLIENTS.md with no nbd kernel module: nbdfuse exposes the
 * export as a file on a FUSE mount, losetup makes it a block device, ext4 goes on that. Every step
 * is undone by `detach()`, which tolerates a half-built chain (suites call it in teardown).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onExitSync, run, sleep } from './processes.js';

const PIDFILE_WAIT_MS = 30_000;
const POLL_MS = 50;

export class MountChain {
  private nbdfuse: ChildProcess | undefined;
  private device: string | undefined;
  private mounted = false;
  readonly fuseDir: string;
  readonly image: string;
  readonly mountPoint: string;
  private readonly pidFile: string;

  constructor(readonly base: string) {
    this.fuseDir = join(base, 'fuse');
    this.image = join(this.fuseDir, 'disk.img');
    this.mountPoint = join(base, 'mnt');
    this.pidFile = join(base, 'nbdfuse.pid');
    // If the suite dies before its teardown, no mount, loop device or FUSE mount is left behind.
    onExitSync(() => this.detachSync());
  }

  private detachSync(): void {
    if (this.mounted) spawnSync('umount', ['-l', this.mountPoint]);
    if (this.device) spawnSync('losetup', ['-d', this.device]);
    if (this.nbdfuse) {
      spawnSync('fusermount3', ['-uz', this.image]);
      this.nbdfuse.kill('SIGKILL');
    }
  }

  /** nbdfuse FILE URI, then losetup; resolves to the loop device. */
  async attach(uri: string): Promise<string> {
    await mkdir(this.fuseDir, { recursive: true });
    await mkdir(this.mountPoint, { recursive: true });
    if (!existsSync(this.image)) await writeFile(this.image, '');
    const log = openSync(join(this.base, 'nbdfuse.log'), 'a');
    try {
      this.nbdfuse = spawn('nbdfuse', ['-P', this.pidFile, this.image, uri], {
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    // nbdfuse writes the pidfile once the FUSE mount is ready (nbdfuse(1), -P).
    const deadline = Date.now() + PIDFILE_WAIT_MS;
    while (!existsSync(this.pidFile)) {
      if (this.nbdfuse.exitCode !== null || Date.now() > deadline) {
        throw new Error(`nbdfuse did not come up; see ${join(this.base, 'nbdfuse.log')}`);
      }
      await sleep(POLL_MS);
    }
    const res = await run('losetup', ['-f', '--show', this.image]);
    if (res.code !== 0) throw new Error(`losetup failed: ${res.stderr}`);
    this.device = res.stdout.trim();
    return this.device;
  }

  async mkfs(): Promise<void> {
    const res = await run('mkfs.ext4', ['-q', '-F', this.dev]);
    if (res.code !== 0) throw new Error(`mkfs.ext4 failed: ${res.stderr}`);
  }

  async mount(): Promise<void> {
    const res = await run('mount', [this.dev, this.mountPoint]);
    if (res.code !== 0) throw new Error(`mount failed: ${res.stderr}`);
    this.mounted = true;
  }

  async umount(): Promise<void> {
    await run('sync', []);
    const res = await run('umount', [this.mountPoint]);
    if (res.code !== 0) throw new Error(`umount failed: ${res.stderr}`);
    this.mounted = false;
  }

  /** e2fsck -fn: forced check, no changes; exit 0 means the filesystem is clean. */
  fsck() {
    return run('e2fsck', ['-fn', this.dev]);
  }

  get dev(): string {
    if (!this.device) throw new Error('no loop device attached');
    return this.device;
  }

  /** Undoes whatever part of the chain exists: umount, losetup -d, fusermount3 -u, nbdfuse. */
  async detach(): Promise<void> {
    if (this.mounted) {
      await run('umount', [this.mountPoint]);
      if ((await run('mountpoint', ['-q', this.mountPoint])).code === 0) {
        await run('umount', ['-l', this.mountPoint]);
      }
      this.mounted = false;
    }
    if (this.device) {
      await run('losetup', ['-d', this.device]);
      this.device = undefined;
    }
    if (this.nbdfuse) {
      const proc = this.nbdfuse;
      this.nbdfuse = undefined;
      if ((await run('fusermount3', ['-u', this.image])).code !== 0) {
        await run('fusermount3', ['-uz', this.image]);
      }
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await run('rm', ['-f', this.pidFile]);
    }
  }
}
