/**
 * The discovery subsystem (NVMe-oF 1.1, 5): any host may connect, the log (70h) lists only the
 * subsystems the asking host may reach, and a change bumps GENCTR and raises a Discovery Log
 * Page Change notice (AER type 2, info F0h, log 70h).
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { NvmfTarget } from '../../../src/target/nvmf-target.js';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import {
  silent,
  sqe,
  statusOf,
  dataOf,
  adminQueue,
  ioQueue,
  HOST_A,
  HOST_B,
} from './support/harness.js';

const DISCOVERY = 'nqn.2014-08.org.nvmexpress.discovery';
const OPEN = 'nqn.2024-01.io.nvmf-dpu:open';
const PRIVATE = 'nqn.2024-01.io.nvmf-dpu:private';
const readLog = (bytes: number, offset = 0) =>
  sqe({ opcode: 0x02, cdw10: 0x70 | ((bytes / 4 - 1) << 16), cdw12: offset, sglLength: bytes });
const subnqnAt = (log: Buffer, entry: number) => {
  const at = 1024 + entry * 1024 + 512;
  return log.toString('utf8', at, log.indexOf(0, at));
};

describe('discovery', () => {
  let target: NvmfTarget;
  let port: number;
  beforeEach(async () => {
    target = new NvmfTarget({ logger: silent });
    target.addSubsystem({ nqn: OPEN, allowAnyHost: true, allowedHosts: [] });
    const priv = target.addSubsystem({ nqn: PRIVATE, allowAnyHost: false, allowedHosts: [HOST_A] });
    priv.addNamespace(new MemoryBdev({ name: 'p', blockSize: 512, blockCount: 8 }));
    port = (await target.listen({ host: '127.0.0.1', port: 0 })).port;
  });
  afterEach(() => target.close());

  it('lists the current discovery subsystem and what each host may reach', async () => {
    const a = await adminQueue(target, DISCOVERY, { hostnqn: HOST_A });
    const logA = dataOf(await a.qp.handle(readLog(4096), undefined));
    expect(Number(logA.readBigUInt64LE(8))).toBe(3); // NUMREC
    expect([subnqnAt(logA, 0), subnqnAt(logA, 1), subnqnAt(logA, 2)]).toEqual([
      DISCOVERY,
      OPEN,
      PRIVATE,
    ]);

    const b = await adminQueue(target, DISCOVERY, { hostnqn: HOST_B });
    const logB = dataOf(await b.qp.handle(readLog(4096), undefined));
    expect(Number(logB.readBigUInt64LE(8))).toBe(2);
    expect([subnqnAt(logB, 0), subnqnAt(logB, 1)]).toEqual([DISCOVERY, OPEN]);
    expect(logB.subarray(3072).equals(Buffer.alloc(1024))).toBe(true);
  });

  it('an entry carries TCP, IPv4, the port and address, dynamic CNTLID, SECTYPE none', async () => {
    const { qp } = await adminQueue(target, DISCOVERY, { hostnqn: HOST_B });
    const e = dataOf(await qp.handle(readLog(1024, 2048), undefined));
    expect([e[0], e[1], e[2], e[3]]).toEqual([3, 1, 2, 2]); // TRTYPE tcp, ADRFAM ipv4, SUBTYPE nvme, TREQ not required
    expect(e.readUInt16LE(4)).toBe(1); // PORTID
    expect(e.readUInt16LE(6)).toBe(0xffff); // CNTLID
    expect(e.readUInt16LE(8)).toBe(128); // ASQSZ
    expect(e.toString('latin1', 32, 64).trimEnd()).toBe(String(port)); // TRSVCID, space padded
    expect(e.toString('latin1', 256, 512).trimEnd()).toBe('127.0.0.1'); // TRADDR
    expect(e[768]).toBe(0); // TSAS SECTYPE: none
  });

  it('a discovery controller identifies as such and has no namespaces or I/O queues', async () => {
    const { qp, cntlid } = await adminQueue(target, DISCOVERY, { hostnqn: HOST_B });
    const id = dataOf(await qp.handle(sqe({ opcode: 0x06, cdw10: 1, sglLength: 4096 }), undefined));
    expect(id[111]).toBe(2); // CNTRLTYPE discovery
    expect(id.readUInt32LE(516)).toBe(0); // NN
    expect(id.readUInt32LE(92) >>> 31).toBe(1); // OAES: discovery log change notices
    expect(
      statusOf(
        await qp.handle(sqe({ opcode: 0x06, cdw10: 0, nsid: 1, sglLength: 4096 }), undefined),
      ).sc,
    ).toBe(0x02);
    const io = await ioQueue(target, DISCOVERY, cntlid, 1, HOST_B);
    expect(statusOf(io.response)).toEqual({ sct: 1, sc: 0x82, dnr: true });
    const setQueues = sqe({ opcode: 0x09, cdw10: 0x07, cdw11: 0 });
    expect(statusOf(await qp.handle(setQueues, undefined)).sc).toBe(0x02);
    expect(
      statusOf(
        await qp.handle(
          sqe({ opcode: 0x02, cdw10: 0x02 | (127 << 16), sglLength: 512 }),
          undefined,
        ),
      ).sc,
    ).toBe(0x09);
  });

  it('allowing a host bumps GENCTR and completes a held AER with Discovery Log Page Change', async () => {
    const { qp } = await adminQueue(target, DISCOVERY, { hostnqn: HOST_B });
    const before = dataOf(await qp.handle(readLog(1024), undefined)).readBigUInt64LE(0);
    const held = qp.handle(sqe({ opcode: 0x0c }), undefined);
    target.findSubsystem(PRIVATE)!.addHost(HOST_B);
    expect((await held).dw0).toBe(0x0070f002); // log 70h, info F0h, type notice
    const after = dataOf(await qp.handle(readLog(1024), undefined));
    expect(after.readBigUInt64LE(0)).toBe(before + 1n);
    expect(Number(after.readBigUInt64LE(8))).toBe(3);
  });

  it('any host may connect to the discovery subsystem, even one no subsystem allows', async () => {
    const { ctrl } = await adminQueue(target, DISCOVERY, { hostnqn: 'nqn.2024-01.io.elsewhere:h' });
    expect(ctrl.isDiscovery).toBe(true);
  });
});
