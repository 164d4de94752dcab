/**
 * The I/O commands other than Read/Write, and the error statuses the target answers with, each
 * seen through the real host: Write Zeroes, Dataset Management (deallocate), Flush, Compare,
 * MDTS splitting; out-of-range LBA, absent NSID, bad opcode, transfers over MDTS, bad Identify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostController, type RemoteBdev } from '../../../src/initiator/index.js';
import { readCommand, writeCommand, flushCommand } from '../../../src/initiator/commands.js';
import { encodeSqe } from '../../../src/nvme/sqe.js';
import { encodeIdentifyCommand } from '../../../src/nvme/identify.js';
import { NvmeStatusError } from '../../../src/nvme/status.js';
import { patternBlocks } from '../../support/pattern.js';
import { startTarget, LOOPBACK, HOST_A, testLogger, type Rig } from './support/target-rig.js';

const NQN = 'nqn.2024-01.io.example:commands';
const BLOCKS = 16384;
const BS = 512;
const MiB = 1024 * 1024;

// Status codes written from NVMe Base 2.0 Figures 102-104 / NVM Command Set Figure 17.
const GENERIC = 0;
const MEDIA = 2;
const SC_INVALID_OPCODE = 0x01;
const SC_INVALID_FIELD = 0x02;
const SC_INVALID_NAMESPACE = 0x0b;
const SC_DATA_SGL_LENGTH_INVALID = 0x0f;
const SC_LBA_OUT_OF_RANGE = 0x80;
const SC_COMPARE_FAILURE = 0x85;

let rig: Rig;
let ctrl: HostController;
let ns: RemoteBdev;

beforeAll(async () => {
  rig = await startTarget([{ nqn: NQN, namespaces: [{ blockSize: BS, blockCount: BLOCKS }] }]);
  ctrl = await HostController.connect({
    traddr: LOOPBACK,
    trsvcid: rig.port,
    subnqn: NQN,
    hostnqn: HOST_A,
    logger: testLogger(),
  });
  ns = ctrl.namespace(1);
});
afterAll(async () => {
  await ctrl.close();
  await rig.close();
});

/** The NvmeStatusError a promise rejects with, as [sct, sc, dnr]. */
async function statusOf(p: Promise<unknown>): Promise<[number, number, boolean]> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the command should fail').toBeInstanceOf(NvmeStatusError);
  const e = err as NvmeStatusError;
  return [e.sct, e.sc, e.dnr];
}

describe('I/O commands', () => {
  it('Write Zeroes makes a written range read as zeroes, leaving its neighbours', async () => {
    await ns.write(100, patternBlocks(100, 64, BS, 1));
    await ns.writeZeroes(110, 20);
    const got = await ns.read(100, 64);
    expect(got.subarray(0, 10 * BS).equals(patternBlocks(100, 10, BS, 1))).toBe(true);
    expect(got.subarray(10 * BS, 30 * BS).every((b) => b === 0)).toBe(true);
    expect(got.subarray(30 * BS).equals(patternBlocks(130, 34, BS, 1))).toBe(true);
  });

  it('Dataset Management deallocate: ranges read as zeroes afterwards', async () => {
    await ns.write(1000, patternBlocks(1000, 256, BS, 2));
    await ns.deallocate([
      { lba: 1000, blocks: 16 },
      { lba: 1100, blocks: 100 },
    ]);
    const got = await ns.read(1000, 256);
    const want = patternBlocks(1000, 256, BS, 2);
    want.fill(0, 0, 16 * BS);
    want.fill(0, 100 * BS, 200 * BS);
    expect(got.equals(want)).toBe(true);
  });

  it('deallocates more than 256 ranges in several commands', async () => {
    await ns.write(4000, patternBlocks(4000, 600, BS, 3));
    const ranges = Array.from({ length: 300 }, (_, i) => ({ lba: 4000 + 2 * i, blocks: 1 }));
    await ns.deallocate(ranges);
    const got = await ns.read(4000, 600);
    for (let i = 0; i < 600; i++) {
      const block = got.subarray(i * BS, (i + 1) * BS);
      const want = i % 2 === 0 ? Buffer.alloc(BS) : patternBlocks(4000 + i, 1, BS, 3);
      expect(block.equals(want), `block ${4000 + i}`).toBe(true);
    }
  });

  it('Flush completes', async () => {
    await expect(ns.flush()).resolves.toBeUndefined();
    expect(ns.stats.flushOps).toBeGreaterThan(0);
  });

  it('Compare succeeds on equal data and fails with Compare Failure otherwise', async () => {
    const data = patternBlocks(200, 8, BS, 4);
    await ns.write(200, data);
    await expect(ns.compare(200, data)).resolves.toBeUndefined();
    const other = Buffer.from(data);
    other[BS * 3 + 5] ^= 0xff;
    expect(await statusOf(ns.compare(200, other))).toEqual([MEDIA, SC_COMPARE_FAILURE, true]);
  });

  it('splits a transfer larger than MDTS into several commands and reassembles it', async () => {
    expect(ctrl.maxTransferBytes).toBe(MiB);
    const blocks = (3 * MiB + 4096) / BS;
    const data = patternBlocks(5000, blocks, BS, 5);
    await ns.write(5000, data);
    expect((await ns.read(5000, blocks)).equals(data)).toBe(true);
  });
});

describe('error statuses from the target', () => {
  it('out-of-range LBA: LBA Out of Range', async () => {
    const sqe = readCommand(1, BLOCKS - 4, 8);
    expect(
      await statusOf(ctrl.ioCommand(sqe, { readLength: 8 * BS }, 'read past the end')),
    ).toEqual([GENERIC, SC_LBA_OUT_OF_RANGE, true]);
    const write = writeCommand(1, BLOCKS, 1, false);
    expect(await statusOf(ctrl.ioCommand(write, { data: Buffer.alloc(BS) }, 'write'))).toEqual([
      GENERIC,
      SC_LBA_OUT_OF_RANGE,
      true,
    ]);
  });

  it('absent NSID: Invalid Namespace or Format', async () => {
    expect(
      await statusOf(ctrl.ioCommand(readCommand(7, 0, 1), { readLength: BS }, 'nsid 7')),
    ).toEqual([GENERIC, SC_INVALID_NAMESPACE, true]);
    expect(await statusOf(ctrl.ioCommand(flushCommand(0), undefined, 'flush nsid 0'))).toEqual([
      GENERIC,
      SC_INVALID_NAMESPACE,
      true,
    ]);
  });

  it('bad opcode: Invalid Command Opcode, on the I/O and the admin queue', async () => {
    const io = encodeSqe({ opcode: 0x7e, nsid: 1 });
    expect(await statusOf(ctrl.ioCommand(io, undefined, 'opcode 7Eh'))).toEqual([
      GENERIC,
      SC_INVALID_OPCODE,
      true,
    ]);
    const admin = encodeSqe({ opcode: 0xc3 });
    expect(await statusOf(ctrl.adminCommand(admin, undefined, 'admin opcode C3h'))).toEqual([
      GENERIC,
      SC_INVALID_OPCODE,
      true,
    ]);
  });

  it('a transfer over MDTS: Data SGL Length Invalid, for reads and writes', async () => {
    const blocks = MiB / BS + 1;
    const read = readCommand(1, 0, blocks);
    expect(await statusOf(ctrl.ioCommand(read, { readLength: blocks * BS }, 'big read'))).toEqual([
      GENERIC,
      SC_DATA_SGL_LENGTH_INVALID,
      true,
    ]);
    const write = writeCommand(1, 0, blocks, false);
    const data = Buffer.alloc(blocks * BS, 0xee);
    expect(await statusOf(ctrl.ioCommand(write, { data }, 'big write'))).toEqual([
      GENERIC,
      SC_DATA_SGL_LENGTH_INVALID,
      true,
    ]);
    // Nothing of the refused write landed.
    expect((await ns.read(0, 1)).includes(0xee)).toBe(false);
  });

  it('Identify with an unsupported CNS: Invalid Field in Command', async () => {
    const sqe = encodeIdentifyCommand({ cns: 0x1f });
    expect(
      await statusOf(ctrl.adminCommand(sqe, { readLength: 4096 }, 'Identify CNS 1Fh')),
    ).toEqual([GENERIC, SC_INVALID_FIELD, true]);
  });

  it('the association keeps serving after every error above', async () => {
    const data = patternBlocks(9000, 16, BS, 6);
    await ns.write(9000, data);
    expect((await ns.read(9000, 16)).equals(data)).toBe(true);
    expect(ctrl.state).toBe('live');
  });
});
