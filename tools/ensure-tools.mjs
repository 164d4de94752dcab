#!/usr/bin/env node
// Makes sure the real third-party tools the test suites drive are installed (../shared/REAL-CLIENTS.md).
// As root, a missing tool is installed with apt-get; otherwise, or if that fails, the missing tools
// are listed and the exit code is 1. Usage: node tools/ensure-tools.mjs [--quiet]
import { execFileSync, spawnSync } from 'node:child_process';

/** command on PATH -> Debian package that provides it */
export const TOOLS = {
  fio: 'fio',
  nbdinfo: 'libnbd-bin',
  nbdcopy: 'libnbd-bin',
  nbdfuse: 'libnbd-bin',
  nbdkit: 'nbdkit',
  'qemu-img': 'qemu-utils',
  'qemu-io': 'qemu-utils',
  'qemu-nbd': 'qemu-utils',
  tshark: 'tshark',
  'mkfs.ext4': 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  fusermount3: 'fuse3',
  losetup: 'mount',
};

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export function missingTools() {
  return Object.keys(TOOLS).filter((t) => !has(t));
}

export function ensureTools({ quiet = false } = {}) {
  let missing = missingTools();
  if (missing.length === 0) return [];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) {
    const pkgs = [...new Set(missing.map((t) => TOOLS[t]))];
    if (!quiet) console.error(`installing ${pkgs.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync(
        'sh',
        [
          '-c',
          'echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections',
        ],
        { stdio: 'ignore', env },
      );
      const install = () =>
        execFileSync('apt-get', ['install', '-y', '-q', ...pkgs], {
          stdio: quiet ? 'ignore' : 'inherit',
          env,
        });
      try {
        install();
      } catch {
        execFileSync('apt-get', ['update', '-q'], { stdio: quiet ? 'ignore' : 'inherit', env });
        install();
      }
    } catch (err) {
      if (!quiet) console.error(`apt-get failed: ${err.message}`);
    }
    missing = missingTools();
  }
  return missing;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const missing = ensureTools({ quiet: process.argv.includes('--quiet') });
  if (missing.length) {
    console.error(`missing tools: ${missing.join(', ')}`);
    process.exit(1);
  }
}
