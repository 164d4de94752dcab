/**
 * `nvmf-target` as a process, driven by `nvmf-ctl` as a user would: discover, connect-all,
 * id-ctrl, id-ns, write a file to a namespace and read it back (byte for byte), in both output
 * formats; mistakes get one sentence and exit status 2, refusals exit 1.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nvmfCtl, startNvmfTarget, startOpenTarget, tempDir } from './support/processes.js';
import { preflight } from './support/preflight.js';

const NQN = 'nqn.2024-01.io.example:e2e-ctl';
const LOCKED = 'nqn.2024-01.io.example:e2e-locked';
const HOST = 'nqn.2014-08.org.nvmexpress:uuid:0e2e0e2e-0000-4000-8000-000000000001';
const OTHER_HOST = 'nqn.2014-08.org.nvmexpress:uuid:0e2e0e2e-0000-4000-8000-000000000002';
const MiB = 1024 * 1024;

t.test('nvmf-ctl against nvmf-target', async (t) => {
  if (!preflight(t)) return;
  const dir = await tempDir('ctl');
  t.teardown(() => dir.remove());
  const open = await startOpenTarget(t, NQN);
  const locked = await startNvmfTarget(['--nqn', LOCKED, '--ns', 'mem:8MiB', '--allow-host', HOST]);
  t.teardown(() => locked.child.stop());
  const port = String(open.port);
  const { uri } = open;

  t.test('discover prints the log as nvme-cli does', async (t) => {
    const res = await nvmfCtl(['discover', '-a', '127.0.0.1', '-s', port]);
    t.equal(res.code, 0, res.stderr);
    t.match(res.stdout, /^Discovery Log Number of Records 2, Generation counter \d+$/m);
    t.match(res.stdout, /^subtype: nvme subsystem$/m);
    t.match(res.stdout, new RegExp(`^subnqn:  ${NQN}$`, 'm'));
    t.match(res.stdout, new RegExp(`^trsvcid: ${port}$`, 'm'));
  });

  t.test('discover --output-format json', async (t) => {
    const res = await nvmfCtl(['discover', '-a', '127.0.0.1', '-s', port, '-o', 'json']);
    t.equal(res.code, 0, res.stderr);
    const log = JSON.parse(res.stdout) as { genctr: number; records: Record<string, unknown>[] };
    t.type(log.genctr, 'number');
    const nvme = log.records.filter((r) => r.subtype === 'nvme subsystem');
    t.same(nvme, [
      {
        trtype: 'tcp',
        adrfam: 'ipv4',
        subtype: 'nvme subsystem',
        treq: 'not required',
        portid: 1,
        trsvcid: port,
        subnqn: NQN,
        traddr: '127.0.0.1',
        sectype: 'none',
      },
    ]);
  });

  t.test(
    'discovery on the locked target shows its subsystem only to the allowed host',
    async (t) => {
      const args = ['discover', '-a', '127.0.0.1', '-s', String(locked.port), '-o', 'json'];
      const as = async (hostnqn: string) => {
        const res = await nvmfCtl([...args, '-q', hostnqn]);
        t.equal(res.code, 0, res.stderr);
        return (JSON.parse(res.stdout) as { records: { subnqn: string }[] }).records.map(
          (r) => r.subnqn,
        );
      };
      t.ok((await as(HOST)).includes(LOCKED), 'the allowed host sees it');
      t.notOk((await as(OTHER_HOST)).includes(LOCKED), 'another host does not');
    },
  );

  t.test('connect-all lists every reachable subsystem with its namespaces', async (t) => {
    const res = await nvmfCtl(['connect-all', '-a', '127.0.0.1', '-s', port, '-o', 'json']);
    t.equal(res.code, 0, res.stderr);
    const { Subsystems } = JSON.parse(res.stdout) as {
      Subsystems: {
        SubsystemNQN: string;
        Controllers: { Namespaces: Record<string, number>[] }[];
      }[];
    };
    t.equal(Subsystems.length, 1);
    t.equal(Subsystems[0].SubsystemNQN, NQN);
    t.same(
      Subsystems[0].Controllers[0].Namespaces.map((n) => [n.NSID, n.SectorSize, n.PhysicalSize]),
      [
        [1, 512, 64 * MiB],
        [2, 4096, 16 * MiB],
      ],
    );
    const text = await nvmfCtl(['list', '-a', '127.0.0.1', '-s', port]);
    t.equal(text.code, 0, text.stderr);
    t.match(text.stdout, /nsid 1 +64 MiB 512 B/);
    t.match(text.stdout, /nsid 2 +16 MiB 4096 B/);
  });

  t.test('id-ctrl', async (t) => {
    const res = await nvmfCtl(['id-ctrl', uri, '-o', 'json']);
    t.equal(res.code, 0, res.stderr);
    const id = JSON.parse(res.stdout) as Record<string, unknown>;
    t.equal(id.subnqn, NQN);
    t.equal(id.cntrltype, 1, 'an I/O controller');
    t.equal(id.sqes, 0x66);
    t.equal(id.cqes, 0x44);
    t.ok((id.nn as number) >= 2, 'NN (the largest NSID) covers both namespaces');
    t.ok((id.ioccsz as number) >= 4, 'IOCCSZ covers at least the SQE');
    t.equal(id.icdoff, 0, 'NVMe/TCP in-capsule data right after the SQE');
    const text = await nvmfCtl(['id-ctrl', uri]);
    t.match(text.stdout, /^NVME Identify Controller:$/m);
    t.match(text.stdout, new RegExp(`^subnqn +: ${NQN}$`, 'm'));
  });

  t.test('id-ns for a 512- and a 4096-byte namespace', async (t) => {
    for (const [nsid, lbads, nsze] of [
      [1, 9, (64 * MiB) / 512],
      [2, 12, (16 * MiB) / 4096],
    ]) {
      const res = await nvmfCtl(['id-ns', uri, '-n', String(nsid), '-o', 'json']);
      t.equal(res.code, 0, res.stderr);
      const ns = JSON.parse(res.stdout) as { nsze: number; flbas: number; lbafs: { ds: number }[] };
      t.equal(ns.nsze, nsze, `nsid ${nsid} NSZE`);
      t.equal(ns.lbafs[ns.flbas & 0xf].ds, lbads, `nsid ${nsid} LBADS`);
    }
    const text = await nvmfCtl(['id-ns', uri, '-n', '2']);
    t.match(text.stdout, /^lbaf {2}0 : ms:0 {3}lbads:12 rp:0 \(in use\)$/m);
  });

  t.test('write a file, read it back byte for byte', async (t) => {
    const input = join(dir.path, 'in.bin');
    const output = join(dir.path, 'out.bin');
    const data = randomBytes(3 * MiB + 4096);
    await writeFile(input, data);
    const w = await nvmfCtl([
      'write',
      uri,
      '-n',
      '1',
      '--start-block',
      '2048',
      '--data',
      input,
      '-g',
      '-G',
    ]);
    t.equal(w.code, 0, w.stderr);
    t.equal(w.stdout, 'write: Success\n');
    const blocks = String(data.length / 512);
    const r = await nvmfCtl([
      'read',
      uri,
      '-n',
      '1',
      '--start-block',
      '2048',
      '--block-count',
      blocks,
      '--data',
      output,
      '-o',
      'json',
    ]);
    t.equal(r.code, 0, r.stderr);
    t.same(JSON.parse(r.stdout), {
      command: 'read',
      nsid: 1,
      startBlock: 2048,
      blockCount: data.length / 512,
      blockSize: 512,
      bytes: data.length,
    });
    t.ok((await readFile(output)).equals(data), 'the file read back is the file written');
    const n2 = await nvmfCtl(['write', uri, '-n', '2', '--data', input]);
    t.equal(n2.code, 0, 'a 4096-byte namespace takes the same file');
  });

  t.test('mistakes and refusals', async (t) => {
    const usage = await nvmfCtl(['read', uri, '-n', '1']);
    t.equal(usage.code, 2);
    t.match(usage.stderr, /^nvmf-ctl: read needs --block-count N/);
    const beyond = await nvmfCtl([
      'read',
      uri,
      '-n',
      '2',
      '--start-block',
      '4095',
      '--block-count',
      '2',
    ]);
    t.equal(beyond.code, 2);
    t.match(beyond.stderr, /beyond the namespace's 4096 blocks/);
    const refused = await nvmfCtl([
      'id-ctrl',
      `tcp://127.0.0.1:${locked.port}/${LOCKED}`,
      '-q',
      OTHER_HOST,
    ]);
    t.equal(refused.code, 1);
    t.match(refused.stderr, /Connect Invalid Host/);
    const allowed = await nvmfCtl([
      'id-ctrl',
      `tcp://127.0.0.1:${locked.port}/${LOCKED}`,
      '-q',
      HOST,
      '-o',
      'json',
    ]);
    t.equal(allowed.code, 0, allowed.stderr);
    const badNqn = await nvmfCtl(['id-ctrl', uri, '-q', 'not-an-nqn']);
    t.equal(badNqn.code, 2);
    t.match(badNqn.stderr, /--hostnqn: NQN "not-an-nqn"/);
  });
});
