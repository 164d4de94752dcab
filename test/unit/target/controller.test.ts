/**
 * The controller state machine: CC/CSTS enable, invalid configuration (CFS), shutdown (SHST
 * 01b then 10b after every namespace is flushed), reset, keep-alive expiry, Asynchronous Event
 * Requests (held, completed on a namespace change, limited, masked until the log is read).
 */
import { describe, expect, it, beforeEach, afterEach, vi } from 'vitest';
import { NvmfTarget } from '../../../src/target/nvmf-target.js';
import { ControllerState } from '../../../src/target/controller.js';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';
import type { Subsystem } from '../../../src/target/subsystem.js';
import {
  silent,
  sqe,
  statusOf,
  dataOf,
  adminQueue,
  ioQueue,
  propertySetSqe,
  propertyGetSqe,
  PROPERTY_CC,
  PROPERTY_CSTS,
  CC_ENABLE,
} from './support/harness.js';

const NQN = 'nqn.2024-01.io.nvmf-dpu:ctrl';
/** CC.SHN = 01b (normal shutdown), bits 15:14. */
const CC_SHN_NORMAL = 1 << 14;
const AER = () => sqe({ opcode: 0x0c });
const cstsOf = async (qp: Awaited<ReturnType<typeof adminQueue>>['qp']) =>
  (await qp.handle(propertyGetSqe(PROPERTY_CSTS, 4), undefined)).dw0!;

/** A bdev whose flush completes only when the test says so. */
class SlowFlushBdev extends MemoryBdev {
  release: (() => void) | undefined;
  override async flush(): Promise<void> {
    await new Promise<void>((resolve) => (this.release = resolve));
  }
}

describe('controller state machine', () => {
  let target: NvmfTarget;
  let sub: Subsystem;
  beforeEach(() => {
    target = new NvmfTarget({ logger: silent });
    sub = target.addSubsystem({ nqn: NQN, allowAnyHost: true, allowedHosts: [] });
    sub.addNamespace(new MemoryBdev({ name: 'm', blockSize: 512, blockCount: 64 }));
  });
  afterEach(() => vi.useRealTimers());

  it('starts disabled: CSTS 0, state disabled', async () => {
    const { qp, ctrl } = await adminQueue(target, NQN, { enable: false });
    expect(await cstsOf(qp)).toBe(0);
    expect(ctrl.state).toBe(ControllerState.Disabled);
  });

  it('an enable with IOSQES other than 64 bytes sets CSTS.CFS and no RDY', async () => {
    const { qp, ctrl } = await adminQueue(target, NQN, { enable: false });
    const badCc = (CC_ENABLE & ~(0xf << 16)) | (7 << 16);
    await qp.handle(propertySetSqe(PROPERTY_CC, badCc), undefined);
    expect(await cstsOf(qp)).toBe(0b10); // CFS bit 1
    expect(ctrl.state).toBe(ControllerState.Fatal);
  });

  it('a normal shutdown reads SHST 01b while flushing, 10b once the namespaces are flushed', async () => {
    const slow = new SlowFlushBdev({ name: 'slow', blockSize: 512, blockCount: 8 });
    sub.addNamespace(slow);
    const { qp, ctrl } = await adminQueue(target, NQN);
    await qp.handle(propertySetSqe(PROPERTY_CC, CC_ENABLE | CC_SHN_NORMAL), undefined);
    expect(await cstsOf(qp)).toBe(0b0101); // RDY, SHST 01b
    expect(ctrl.state).toBe(ControllerState.ShutdownOccurring);
    slow.release!();
    await vi.waitFor(() => expect(ctrl.state).toBe(ControllerState.ShutdownComplete));
    expect(await cstsOf(qp)).toBe(0b1001); // RDY, SHST 10b
    // Clearing SHN returns to normal operation.
    await qp.handle(propertySetSqe(PROPERTY_CC, CC_ENABLE), undefined);
    expect(await cstsOf(qp)).toBe(1);
  });

  it('CC.EN 1→0 resets: RDY clears, I/O queues close, held AERs complete as aborted', async () => {
    const { qp, ctrl, cntlid } = await adminQueue(target, NQN);
    const io = await ioQueue(target, NQN, cntlid, 1);
    const held = qp.handle(AER(), undefined);
    await qp.handle(propertySetSqe(PROPERTY_CC, 0), undefined);
    expect(await cstsOf(qp)).toBe(0);
    expect(io.link.closedWith).toBe('controller reset');
    expect(ctrl.ioQueues.size).toBe(0);
    expect(statusOf(await held)).toMatchObject({ sct: 0, sc: 0x08 }); // Aborted due to SQ Deletion
  });

  it('keep-alive timeout tears the association down; commands restart the timer', async () => {
    vi.useFakeTimers();
    const { qp, ctrl, cntlid, link } = await adminQueue(target, NQN, { kato: 1000 });
    const io = await ioQueue(target, NQN, cntlid, 1);
    vi.advanceTimersByTime(900);
    expect((await qp.handle(sqe({ opcode: 0x18 }), undefined)).status).toBe(0); // Keep Alive
    vi.advanceTimersByTime(900);
    expect(ctrl.destroyed).toBe(false);
    vi.advanceTimersByTime(200);
    expect(ctrl.destroyed).toBe(true);
    expect(link.closedWith).toBe('keep alive timeout');
    expect(io.link.closedWith).toBe('keep alive timeout');
    expect(sub.controller(cntlid)).toBeUndefined();
  });

  it('KATO 0 disables the timer; Set Features Keep Alive Timer starts it, rounded up to 100 ms', async () => {
    vi.useFakeTimers();
    const { qp, ctrl } = await adminQueue(target, NQN, { kato: 0 });
    vi.advanceTimersByTime(3_600_000);
    expect(ctrl.destroyed).toBe(false);
    await qp.handle(sqe({ opcode: 0x09, cdw10: 0x0f, cdw11: 250 }), undefined);
    expect((await qp.handle(sqe({ opcode: 0x0a, cdw10: 0x0f }), undefined)).dw0).toBe(300);
    vi.advanceTimersByTime(299);
    expect(ctrl.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(ctrl.destroyed).toBe(true);
  });

  it('an AER is held and completes with Namespace Attribute Changed when a namespace is added', async () => {
    const { qp } = await adminQueue(target, NQN);
    let done = false;
    const held = Promise.resolve(qp.handle(AER(), undefined)).then((r) => ((done = true), r));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    sub.addNamespace(new MemoryBdev({ name: 'n2', blockSize: 512, blockCount: 8 }), { nsid: 7 });
    const r = await held;
    expect(r.status).toBe(0);
    // DW0: type 2 (notice) bits 2:0, info 0 bits 15:8, log page 04h bits 23:16.
    expect(r.dw0).toBe(0x00040002);
    // The Changed Namespace List names NSID 7; reading it (RAE=0) clears it.
    const read = () =>
      qp.handle(sqe({ opcode: 0x02, cdw10: 0x04 | (1023 << 16), sglLength: 4096 }), undefined);
    const list = dataOf(await read());
    expect([list.readUInt32LE(0), list.readUInt32LE(4)]).toEqual([7, 0]);
    expect(dataOf(await read()).readUInt32LE(0)).toBe(0);
  });

  it('one notice per log page until the host reads it: a second change waits for the read', async () => {
    const { qp } = await adminQueue(target, NQN);
    const first = qp.handle(AER(), undefined);
    sub.addNamespace(new MemoryBdev({ name: 'a', blockSize: 512, blockCount: 8 }), { nsid: 2 });
    expect((await first).status).toBe(0);
    let done = false;
    const second = Promise.resolve(qp.handle(AER(), undefined)).then((r) => ((done = true), r));
    sub.addNamespace(new MemoryBdev({ name: 'b', blockSize: 512, blockCount: 8 }), { nsid: 3 });
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    await qp.handle(sqe({ opcode: 0x02, cdw10: 0x04 | (1023 << 16), sglLength: 4096 }), undefined);
    sub.removeNamespace(3);
    expect((await second).dw0).toBe(0x00040002);
  });

  it('the fifth outstanding AER is refused: Asynchronous Event Request Limit Exceeded (SCT 1, SC 05h)', async () => {
    const { qp, ctrl } = await adminQueue(target, NQN);
    for (let i = 0; i < 4; i++) void qp.handle(AER(), undefined);
    await new Promise((r) => setImmediate(r));
    expect(ctrl.heldAsyncEventRequests).toBe(4);
    expect(statusOf(await qp.handle(AER(), undefined))).toEqual({ sct: 1, sc: 0x05, dnr: true });
  });

  it('Asynchronous Event Configuration without bit 8 keeps namespace changes quiet', async () => {
    const { qp } = await adminQueue(target, NQN);
    await qp.handle(sqe({ opcode: 0x09, cdw10: 0x0b, cdw11: 0 }), undefined);
    expect((await qp.handle(sqe({ opcode: 0x0a, cdw10: 0x0b }), undefined)).dw0).toBe(0);
    let done = false;
    void Promise.resolve(qp.handle(AER(), undefined)).then(() => (done = true));
    sub.addNamespace(new MemoryBdev({ name: 'q', blockSize: 512, blockCount: 8 }));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
  });

  it('Abort completes with DW0 bit 0 set: the command was not aborted', async () => {
    const { qp } = await adminQueue(target, NQN);
    const r = await qp.handle(sqe({ opcode: 0x08, cdw10: (5 << 16) | 1 }), undefined);
    expect(r.status).toBe(0);
    expect(r.dw0).toBe(1);
  });
});
