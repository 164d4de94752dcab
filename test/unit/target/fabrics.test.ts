/**
 * Connect, Property Get/Set and Disconnect through QueuePair.handle, with SQEs and Connect data
 * built byte by byte (NVMe-oF 1.1, 3.3-3.6, Figure 21 for the Connect failure DW0).
 */
import { describe, expect, it, beforeEach } from 'vitest';
import { NvmfTarget } from '../../../src/target/nvmf-target.js';
import { QueuePair } from '../../../src/target/queue-pair.js';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import {
  LinkDouble,
  silent,
  HOST_A,
  HOST_B,
  connectSqe,
  connectData,
  propertyGetSqe,
  propertySetSqe,
  fabricsSqe,
  sqe,
  statusOf,
  adminQueue,
  ioQueue,
  CC_ENABLE,
  PROPERTY_CC,
  PROPERTY_CSTS,
} from './support/harness.js';

const NQN = 'nqn.2024-01.io.nvmf-dpu:fabrics';

describe('Fabrics commands', () => {
  let target: NvmfTarget;
  beforeEach(() => {
    target = new NvmfTarget({ logger: silent });
    const sub = target.addSubsystem({ nqn: NQN, allowAnyHost: false, allowedHosts: [HOST_A] });
    sub.addNamespace(new MemoryBdev({ name: 'm', blockSize: 512, blockCount: 1024 }));
  });

  async function connect(sq: Buffer, data?: Buffer) {
    const link = new LinkDouble();
    const qp = new QueuePair(link, target, silent);
    return { link, qp, r: await qp.handle(sq, data) };
  }

  it('admin Connect creates a controller: DW0 holds its CNTLID, the queue gets QID 0 and its size', async () => {
    const { link, r } = await connect(
      connectSqe({ qid: 0, sqsize: 31, kato: 5000 }),
      connectData({ cntlid: 0xffff, subnqn: NQN, hostnqn: HOST_A }),
    );
    expect(statusOf(r)).toEqual({ sct: 0, sc: 0, dnr: false });
    expect(r.dw0! & 0xffff).toBe(1);
    expect([link.qid, link.sqSize, link.inCapsule]).toEqual([0, 32, 8192]);
    const second = await connect(
      connectSqe({ qid: 0, sqsize: 31 }),
      connectData({ cntlid: 0xffff, subnqn: NQN, hostnqn: HOST_A }),
    );
    expect(second.r.dw0! & 0xffff).toBe(2);
  });

  it('a host not allowed gets Connect Invalid Host (SCT 1, SC 84h) naming HOSTNQN in the data', async () => {
    const { r, qp } = await connect(
      connectSqe({ qid: 0, sqsize: 31 }),
      connectData({ cntlid: 0xffff, subnqn: NQN, hostnqn: HOST_B }),
    );
    expect(statusOf(r)).toEqual({ sct: 1, sc: 0x84, dnr: true });
    expect(r.dw0).toBe((1 << 16) | 512); // IATTR bit 0 (in data), IPO 512 (HOSTNQN)
    expect(qp.controller).toBeUndefined();
  });

  it('an unknown SUBNQN gets Connect Invalid Parameters (SC 82h), IPO 256 in the data', async () => {
    const { r } = await connect(
      connectSqe({ qid: 0, sqsize: 31 }),
      connectData({ cntlid: 0xffff, subnqn: 'nqn.2024-01.io.nvmf-dpu:nope', hostnqn: HOST_A }),
    );
    expect(statusOf(r)).toEqual({ sct: 1, sc: 0x82, dnr: true });
    expect(r.dw0).toBe((1 << 16) | 256);
  });

  it('admin Connect must ask for the dynamic CNTLID FFFFh (IPO 16 in the data)', async () => {
    const { r } = await connect(
      connectSqe({ qid: 0, sqsize: 31 }),
      connectData({ cntlid: 5, subnqn: NQN, hostnqn: HOST_A }),
    );
    expect(statusOf(r)).toEqual({ sct: 1, sc: 0x82, dnr: true });
    expect(r.dw0).toBe((1 << 16) | 16);
  });

  it('SQSIZE 0 or above MQES is an invalid parameter in the SQE (IATTR 0, IPO 44)', async () => {
    for (const sqsize of [0, 128]) {
      const { r } = await connect(
        connectSqe({ qid: 0, sqsize }),
        connectData({ cntlid: 0xffff, subnqn: NQN, hostnqn: HOST_A }),
      );
      expect(statusOf(r)).toEqual({ sct: 1, sc: 0x82, dnr: true });
      expect(r.dw0).toBe(44);
    }
  });

  it('RECFMT other than 0 is Connect Incompatible Format (SC 80h); missing data is SGL Length Invalid', async () => {
    const bad = await connect(
      connectSqe({ qid: 0, sqsize: 31, recfmt: 1 }),
      connectData({ cntlid: 0xffff, subnqn: NQN, hostnqn: HOST_A }),
    );
    expect(statusOf(bad.r)).toEqual({ sct: 1, sc: 0x80, dnr: true });
    const noData = await connect(connectSqe({ qid: 0, sqsize: 31 }), undefined);
    expect(statusOf(noData.r)).toEqual({ sct: 0, sc: 0x0f, dnr: true });
  });

  it('commands before Connect, and a second Connect, are Command Sequence Errors', async () => {
    const link = new LinkDouble();
    const qp = new QueuePair(link, target, silent);
    expect(statusOf(await qp.handle(sqe({ opcode: 0x06, sglLength: 4096 }), undefined)).sc).toBe(
      0x0c,
    );
    expect(statusOf(await qp.handle(propertyGetSqe(0, 8), undefined)).sc).toBe(0x0c);
    const data = connectData({ cntlid: 0xffff, subnqn: NQN, hostnqn: HOST_A });
    expect((await qp.handle(connectSqe({ qid: 0, sqsize: 31 }), data)).status).toBe(0);
    const again = await qp.handle(connectSqe({ qid: 0, sqsize: 31 }), data);
    expect(statusOf(again)).toEqual({ sct: 0, sc: 0x0c, dnr: true });
  });

  it('Property Get reads CAP (8 bytes: MQES 127, CQR 1, TO 15), VS 1.3, CC and CSTS', async () => {
    const { qp } = await adminQueue(target, NQN, { enable: false });
    const cap = await qp.handle(propertyGetSqe(0x00, 8), undefined);
    expect(cap.status).toBe(0);
    expect(cap.dw0! & 0xffff).toBe(127);
    expect((cap.dw0! >>> 16) & 1).toBe(1);
    expect((cap.dw0! >>> 24) & 0xff).toBe(15);
    expect((cap.dw1! >>> (37 - 32)) & 1).toBe(1); // CSS bit 37: NVM command set
    expect((await qp.handle(propertyGetSqe(0x08, 4), undefined)).dw0).toBe(0x00010300);
    expect((await qp.handle(propertyGetSqe(PROPERTY_CSTS, 4), undefined)).dw0).toBe(0);
    // CAP read as 4 bytes, or an unknown offset: Invalid Field.
    expect(statusOf(await qp.handle(propertyGetSqe(0x00, 4), undefined)).sc).toBe(0x02);
    expect(statusOf(await qp.handle(propertyGetSqe(0x40, 4), undefined)).sc).toBe(0x02);
  });

  it('CC.EN=1 makes CSTS.RDY=1; admin commands before that are Command Sequence Errors', async () => {
    const { qp } = await adminQueue(target, NQN, { enable: false });
    const early = await qp.handle(sqe({ opcode: 0x06, cdw10: 1, sglLength: 4096 }), undefined);
    expect(statusOf(early)).toEqual({ sct: 0, sc: 0x0c, dnr: true });
    expect((await qp.handle(propertySetSqe(PROPERTY_CC, CC_ENABLE), undefined)).status).toBe(0);
    expect((await qp.handle(propertyGetSqe(PROPERTY_CC, 4), undefined)).dw0).toBe(CC_ENABLE);
    expect((await qp.handle(propertyGetSqe(PROPERTY_CSTS, 4), undefined)).dw0).toBe(1);
    const identify = await qp.handle(sqe({ opcode: 0x06, cdw10: 1, sglLength: 4096 }), undefined);
    expect(identify.status).toBe(0);
  });

  it('Property Set of anything but CC is Invalid Field', async () => {
    const { qp } = await adminQueue(target, NQN);
    expect(statusOf(await qp.handle(propertySetSqe(PROPERTY_CSTS, 1), undefined)).sc).toBe(0x02);
  });

  it('I/O queues join the controller with its CNTLID; wrong CNTLID, host, QID or a duplicate are refused', async () => {
    const { cntlid, ctrl } = await adminQueue(target, NQN);
    const io1 = await ioQueue(target, NQN, cntlid, 1);
    expect(io1.response.status).toBe(0);
    expect(io1.response.dw0! & 0xffff).toBe(cntlid);
    expect([io1.link.qid, io1.link.sqSize, io1.link.inCapsule]).toEqual([1, 128, 8192]);
    expect(ctrl.ioQueues.size).toBe(1);

    const wrongCtrl = await ioQueue(target, NQN, cntlid + 7, 2);
    expect(statusOf(wrongCtrl.response)).toEqual({ sct: 1, sc: 0x82, dnr: true });
    expect(wrongCtrl.response.dw0).toBe((1 << 16) | 16);

    const dup = await ioQueue(target, NQN, cntlid, 1);
    expect(statusOf(dup.response)).toEqual({ sct: 0, sc: 0x0c, dnr: true });

    const tooHigh = await ioQueue(target, NQN, cntlid, 65);
    expect(statusOf(tooHigh.response).sc).toBe(0x82);
    expect(tooHigh.response.dw0).toBe(42); // QID, in the SQE
  });

  it('I/O queue Connect before the controller is enabled is a Command Sequence Error', async () => {
    const { cntlid } = await adminQueue(target, NQN, { enable: false });
    const io = await ioQueue(target, NQN, cntlid, 1);
    expect(statusOf(io.response)).toEqual({ sct: 0, sc: 0x0c, dnr: true });
  });

  it('Property Get on an I/O queue is Invalid Opcode', async () => {
    const { cntlid } = await adminQueue(target, NQN);
    const io = await ioQueue(target, NQN, cntlid, 1);
    expect(statusOf(await io.qp.handle(propertyGetSqe(0, 8), undefined)).sc).toBe(0x01);
  });

  it('closing the admin connection tears the association down: every I/O queue is closed', async () => {
    const { cntlid, link, ctrl } = await adminQueue(target, NQN);
    const io1 = await ioQueue(target, NQN, cntlid, 1);
    const io2 = await ioQueue(target, NQN, cntlid, 2);
    link.close('peer went away');
    expect(ctrl.destroyed).toBe(true);
    expect(io1.link.closedWith).toBeDefined();
    expect(io2.link.closedWith).toBeDefined();
    expect(target.findSubsystem(NQN)!.controller(cntlid)).toBeUndefined();
  });

  it('closing an I/O connection frees its QID for a new Connect', async () => {
    const { cntlid, ctrl } = await adminQueue(target, NQN);
    const io = await ioQueue(target, NQN, cntlid, 1);
    io.link.close();
    expect(ctrl.ioQueues.size).toBe(0);
    expect((await ioQueue(target, NQN, cntlid, 1)).response.status).toBe(0);
  });

  it('Disconnect completes, then closes the queue', async () => {
    const { cntlid } = await adminQueue(target, NQN);
    const io = await ioQueue(target, NQN, cntlid, 1);
    const r = await io.qp.handle(fabricsSqe(0x08), undefined);
    expect(r.status).toBe(0);
    expect(io.link.closedWith).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(io.link.closedWith).toBe('host disconnected');
  });

  it('unknown Fabrics types are Invalid Opcode', async () => {
    const { qp } = await adminQueue(target, NQN);
    expect(statusOf(await qp.handle(fabricsSqe(0x05), undefined))).toEqual({
      sct: 0,
      sc: 0x01,
      dnr: true,
    });
  });
});
