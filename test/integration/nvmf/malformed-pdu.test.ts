/**
 * Every fatal NVMe/TCP error a host can commit, sent as raw bytes: the target answers with a
 * C2HTermReq carrying the Fatal Error Status of NVMe/TCP 1.0 (Figure 28 FES values, FEI = byte
 * offset of the field in error where the spec defines one), echoes the offending header, closes
 * only that connection, and keeps serving an association opened before and one opened after.
 * A data digest error is not fatal (NVMe/TCP 1.0): the command completes with Transient
 * Transport Error and the connection lives on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostController } from '../../../src/initiator/index.js';
import { patternBlocks } from '../../support/pattern.js';
import { startTarget, LOOPBACK, HOST_A, testLogger, type Rig } from './support/target-rig.js';
import {
  FLAG,
  PDU,
  RawHost,
  type RawPdu,
  capsuleCmd,
  connect,
  cqeStatus,
  h2cData,
  icReq,
  pdu,
  rawIoQueue,
  termReq,
  writeSqe,
  SGL_IN_CAPSULE,
  SGL_TRANSPORT,
} from './support/raw-host.js';

const NQN = 'nqn.2024-01.io.example:malformed';
const BS = 512;

// Fatal Error Status values (NVMe/TCP 1.0, Figure 28) and field offsets (Figures 17, 31).
const FES_INVALID_HEADER_FIELD = 0x01;
const FES_PDU_SEQUENCE_ERROR = 0x02;
const FES_HEADER_DIGEST_ERROR = 0x03;
const FES_DATA_OUT_OF_RANGE = 0x04;
const FES_DATA_LIMIT_EXCEEDED = 0x05;
const OFFSET_PDU_TYPE = 0;
const OFFSET_HLEN = 2;
const OFFSET_TTAG = 10;
const TERM_REQ_HLEN = 24;
const SC_TRANSIENT_TRANSPORT_ERROR = 0x22;

let rig: Rig;
let survivor: HostController;

beforeAll(async () => {
  rig = await startTarget([{ nqn: NQN, namespaces: [{ blockSize: BS, blockCount: 8192 }] }]);
  survivor = await HostController.connect({
    traddr: LOOPBACK,
    trsvcid: rig.port,
    subnqn: NQN,
    hostnqn: HOST_A,
    logger: testLogger(),
  });
});
afterAll(async () => {
  await survivor.close();
  await rig.close();
});

/** Checks the PDU is a well-formed C2HTermReq with `fes` (and `fei`), echoing `sent`'s header. */
function expectTermReq(p: RawPdu, fes: number, fei: number | undefined, sent: Buffer): void {
  expect(p.type, 'a C2HTermReq').toBe(PDU.C2H_TERM_REQ);
  expect([p.hlen, p.pdo, p.flags]).toEqual([TERM_REQ_HLEN, 0, 0]);
  const t = termReq(p);
  expect(t.fes, `FES 0x${t.fes.toString(16)}`).toBe(fes);
  if (fei !== undefined) expect(t.fei, 'FEI').toBe(fei);
  // The data is the header of the PDU in error (at least its common header).
  const echoed = p.bytes.subarray(TERM_REQ_HLEN);
  expect(echoed.length).toBeGreaterThanOrEqual(8);
  expect(echoed.subarray(0, 8).equals(sent.subarray(0, 8))).toBe(true);
}

/** The association opened before still works, and so does a new one. */
async function targetStillServes(generation: number): Promise<void> {
  const ns = survivor.namespace(1);
  const data = patternBlocks(generation * 8, 8, BS, generation);
  await ns.write(generation * 8, data);
  expect((await ns.read(generation * 8, 8)).equals(data)).toBe(true);
  expect(survivor.state).toBe('live');
  const fresh = await HostController.connect({
    traddr: LOOPBACK,
    trsvcid: rig.port,
    subnqn: NQN,
    logger: testLogger(),
  });
  expect((await fresh.namespace(1).read(generation * 8, 8)).equals(data)).toBe(true);
  await fresh.close();
}

/** Sends `bad`, expects the TermReq, then the close of that connection only. */
async function terminated(host: RawHost, bad: Buffer, fes: number, fei?: number): Promise<void> {
  host.send(bad);
  expectTermReq(await host.next(), fes, fei, bad);
  await host.closedPromise;
}

describe('fatal NVMe/TCP errors get a C2HTermReq with their FES', () => {
  it('bad HLEN in a CapsuleCmd: Invalid PDU Header Field at HLEN', async () => {
    const { host } = await RawHost.connect(rig.port);
    const c = connect({ cid: 1, qid: 0, sqsize: 31, subnqn: NQN, hostnqn: HOST_A });
    const bad = capsuleCmd(c.sqe, c.data, {});
    bad[2] = 70;
    await terminated(host, bad, FES_INVALID_HEADER_FIELD, OFFSET_HLEN);
    await targetStillServes(1);
  });

  it('a PDU type the controller never receives (CapsuleResp): Invalid PDU Header Field at type', async () => {
    const { host } = await RawHost.connect(rig.port);
    const bad = pdu(PDU.CAPSULE_RESP, 0, Buffer.alloc(24), undefined, {});
    await terminated(host, bad, FES_INVALID_HEADER_FIELD, OFFSET_PDU_TYPE);
    await targetStillServes(2);
  });

  it('an undefined PDU type (0Ah): Invalid PDU Header Field at type', async () => {
    const { host } = await RawHost.connect(rig.port);
    const bad = pdu(0x0a, 0, Buffer.alloc(24), undefined, {});
    await terminated(host, bad, FES_INVALID_HEADER_FIELD, OFFSET_PDU_TYPE);
    await targetStillServes(3);
  });

  it('a CapsuleCmd before ICReq: PDU Sequence Error', async () => {
    const host = await RawHost.open(rig.port);
    const c = connect({ cid: 1, qid: 0, sqsize: 31, subnqn: NQN, hostnqn: HOST_A });
    await terminated(host, capsuleCmd(c.sqe, c.data, {}), FES_PDU_SEQUENCE_ERROR);
    await targetStillServes(4);
  });

  it('a second ICReq: PDU Sequence Error', async () => {
    const { host } = await RawHost.connect(rig.port);
    await terminated(host, icReq(), FES_PDU_SEQUENCE_ERROR);
    await targetStillServes(5);
  });

  it('a header digest that does not match: Header Digest Error', async () => {
    const d = { hdgst: true };
    const { host, icResp } = await RawHost.connect(rig.port, d);
    expect(icResp.bytes[11] & 1, 'ICResp grants header digests').toBe(1);
    const c = connect({ cid: 1, qid: 0, sqsize: 31, subnqn: NQN, hostnqn: HOST_A });
    const bad = capsuleCmd(c.sqe, c.data, d);
    expect(bad[1] & FLAG.HDGSTF).toBe(FLAG.HDGSTF);
    bad[72] ^= 0xff; // first byte of HDGST, right after the 72-byte header
    await terminated(host, bad, FES_HEADER_DIGEST_ERROR);
    await targetStillServes(6);
  });

  it('H2CData beyond what the R2T asked for: Data Transfer Out of Range', async () => {
    const { admin, io } = await rawIoQueue(rig.port, NQN, HOST_A);
    const blocks = 32; // 16 KiB: above the I/O queue's in-capsule size, so it goes by R2T
    io.send(
      capsuleCmd(
        writeSqe(7, 100, blocks, { id: SGL_TRANSPORT, length: blocks * BS }),
        undefined,
        {},
      ),
    );
    const r2t = await io.next();
    expect(r2t.type).toBe(PDU.R2T);
    const cccid = r2t.bytes.readUInt16LE(8);
    const ttag = r2t.bytes.readUInt16LE(10);
    const r2to = r2t.bytes.readUInt32LE(12);
    const r2tl = r2t.bytes.readUInt32LE(16);
    expect([cccid, r2to]).toEqual([7, 0]);
    const bad = h2cData({ cccid, ttag, datao: 0, data: Buffer.alloc(r2tl + BS), last: true }, {});
    await terminated(io, bad, FES_DATA_OUT_OF_RANGE);
    admin.close();
    await targetStillServes(7);
  });

  it('H2CData at the wrong offset: Data Transfer Out of Range', async () => {
    const { admin, io } = await rawIoQueue(rig.port, NQN, HOST_A);
    io.send(
      capsuleCmd(writeSqe(8, 200, 32, { id: SGL_TRANSPORT, length: 32 * BS }), undefined, {}),
    );
    const r2t = await io.next();
    const ttag = r2t.bytes.readUInt16LE(10);
    const bad = h2cData({ cccid: 8, ttag, datao: BS, data: Buffer.alloc(BS), last: false }, {});
    await terminated(io, bad, FES_DATA_OUT_OF_RANGE);
    admin.close();
    await targetStillServes(8);
  });

  it('H2CData with no R2T outstanding: Invalid PDU Header Field at TTAG', async () => {
    const { admin, io } = await rawIoQueue(rig.port, NQN, HOST_A);
    const bad = h2cData(
      { cccid: 9, ttag: 0x1234, datao: 0, data: Buffer.alloc(BS), last: true },
      {},
    );
    await terminated(io, bad, FES_INVALID_HEADER_FIELD, OFFSET_TTAG);
    admin.close();
    await targetStillServes(9);
  });

  it('more in-capsule data than the I/O queue takes: Data Transfer Limit Exceeded', async () => {
    const { admin, io } = await rawIoQueue(rig.port, NQN, HOST_A);
    const blocks = 32; // 16 KiB in the capsule; IOCCSZ allows less
    const bad = capsuleCmd(
      writeSqe(10, 300, blocks, { id: SGL_IN_CAPSULE, length: blocks * BS }),
      Buffer.alloc(blocks * BS),
      {},
    );
    await terminated(io, bad, FES_DATA_LIMIT_EXCEEDED);
    admin.close();
    await targetStillServes(10);
  });
});

describe('data digest errors are per command', () => {
  it('a CapsuleCmd whose data digest is wrong completes with Transient Transport Error; the queue lives', async () => {
    const d = { ddgst: true };
    const { host, icResp } = await RawHost.connect(rig.port, d);
    expect(icResp.bytes[11] & 2, 'ICResp grants data digests').toBe(2);
    const c = connect({ cid: 1, qid: 0, sqsize: 31, subnqn: NQN, hostnqn: HOST_A });
    const bad = capsuleCmd(c.sqe, c.data, d);
    bad[bad.length - 1] ^= 0xff; // last byte of DDGST
    host.send(bad);
    const resp = await host.next();
    expect(resp.type).toBe(PDU.CAPSULE_RESP);
    expect(cqeStatus(resp)).toMatchObject({ cid: 1, sct: 0, sc: SC_TRANSIENT_TRANSPORT_ERROR });
    // The same connection then takes the same Connect with a good digest.
    host.send(capsuleCmd(c.sqe, c.data, d));
    expect(cqeStatus(await host.next())).toMatchObject({ cid: 1, sct: 0, sc: 0 });
    host.close();
    await targetStillServes(11);
  });
});
