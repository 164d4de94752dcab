/**
 * NVM Command Set I/O commands (NVM Command Set 1.0, 3.2-3.3) on a namespace's bdev. Every
 * request is checked once here, before the bdev sees it (SPDK lib/nvmf/ctrlr_bdev.c, nbdkit
 * server/protocol.c): the namespace, the LBA range, the transfer size against MDTS and against
 * the host's buffer. The bdev then only fails for reasons of its own.
 */
import { IoOpcode, NSID_ALL } from '../nvme/opcodes.js';
import { IO_SLBA, IO_NLB_MASK, IO_FUA } from '../nvme/io-command.js';
import { decodeDsmCommand, decodeDsmRanges, DSM_RANGE_SIZE } from '../nvme/dsm.js';
import { FUSE_MASK, SQE_CDW12, SQE_DPTR, SQE_FLAGS, SQE_NSID, SQE_OPCODE } from '../nvme/sqe.js';
import { SGL_LENGTH } from '../nvme/sgl.js';
import type { LbaRange } from '../bdev/bdev.js';
import { BaseBdev } from '../bdev/base-bdev.js';
import type { Subsystem } from './subsystem.js';
import type { Namespace } from './namespace.js';
import { MAX_DATA_TRANSFER } from './controller-limits.js';
import { expectTransfer } from './admin-commands.js';
import {
  type CommandResponse,
  SUCCESS_STATUS,
  success,
  invalidOpcode,
  invalidField,
  invalidNamespace,
  lbaOutOfRange,
  dataSglLengthInvalid,
  compareFailure,
} from './to-nvme-status.js';

/**
 * Runs one I/O command. A request that fails its checks throws (synchronously) and the queue
 * pair maps it to a status; the bdev's own failures throw or reject. A Read or Write whose bdev
 * completes at once (BaseBdev.readNow/writeNow) is answered at once, with no promise.
 */
export function handleIoCommand(
  subsystem: Subsystem,
  sqe: Buffer,
  data: Buffer | undefined,
): CommandResponse | Promise<CommandResponse> {
  const opcode = sqe[SQE_OPCODE];
  if ((sqe[SQE_FLAGS] & FUSE_MASK) !== 0) {
    throw invalidField('fused operations are not supported (Identify FUSES is 0)');
  }
  switch (opcode) {
    case IoOpcode.Read:
      return read(subsystem, sqe);
    case IoOpcode.Write:
      return write(subsystem, sqe, data);
    case IoOpcode.Compare:
      return compare(subsystem, sqe, data);
    case IoOpcode.Flush:
      return flush(subsystem, sqe);
    case IoOpcode.WriteZeroes:
      return writeZeroes(subsystem, sqe);
    case IoOpcode.DatasetManagement:
      return datasetManagement(subsystem, sqe, data);
    default:
      throw invalidOpcode(`I/O opcode 0x${opcode.toString(16)} is not supported`);
  }
}

function namespaceOf(subsystem: Subsystem, nsid: number): Namespace {
  const ns = subsystem.namespace(nsid);
  if (!ns) throw invalidNamespace(`namespace ${nsid} is not active in ${subsystem.nqn}`);
  return ns;
}

function checkLbaRange(ns: Namespace, lba: number, blocks: number): void {
  if (lba + blocks > ns.blockCount) {
    throw lbaOutOfRange(
      `LBA ${lba}+${blocks} is beyond namespace ${ns.nsid}'s ${ns.blockCount} blocks`,
    );
  }
}

const U32 = 2 ** 32;

/**
 * The block range of a Read, Write, Compare or Write Zeroes (NVM CS 1.0, Figure 19): SLBA in
 * CDW10-11, NLB (0-based) in CDW12 bits 15:0. Read field by field: this is the data path, and
 * a full decodeSqe() builds objects and BigInts no I/O command needs.
 */
function blockRange(sqe: Buffer) {
  const cdw12 = sqe.readUInt32LE(SQE_CDW12);
  return {
    nsid: sqe.readUInt32LE(SQE_NSID),
    // Above 2^53 the sum loses precision, but stays beyond any namespace: still out of range.
    slba: sqe.readUInt32LE(IO_SLBA + 4) * U32 + sqe.readUInt32LE(IO_SLBA),
    blocks: (cdw12 & IO_NLB_MASK) + 1,
    fua: (cdw12 & IO_FUA) !== 0,
  };
}

/** The command's namespace, range and transfer, checked (Read, Write, Compare). */
function dataCommand(subsystem: Subsystem, sqe: Buffer, what: string) {
  const cmd = blockRange(sqe);
  const ns = namespaceOf(subsystem, cmd.nsid);
  checkLbaRange(ns, cmd.slba, cmd.blocks);
  const bytes = cmd.blocks * ns.blockSize;
  if (bytes > MAX_DATA_TRANSFER) {
    throw dataSglLengthInvalid(
      `${what} of ${bytes} bytes exceeds MDTS (${MAX_DATA_TRANSFER} bytes)`,
    );
  }
  const sglLength = sqe.readUInt32LE(SQE_DPTR + SGL_LENGTH);
  if (sglLength !== bytes) {
    throw dataSglLengthInvalid(`${what} transfers ${bytes} bytes; SGL1 describes ${sglLength}`);
  }
  return { cmd, ns, bytes };
}

function payload(data: Buffer | undefined, bytes: number, what: string): Buffer {
  if (!data || data.length !== bytes) {
    throw dataSglLengthInvalid(`${what} carried ${data?.length ?? 0} bytes, expected ${bytes}`);
  }
  return data;
}

/**
 * The data path's most frequent command: answered at once when the bdev has the data at once,
 * else with one `then` on the bdev's promise; no async wrapper either way.
 */
function read(subsystem: Subsystem, sqe: Buffer): CommandResponse | Promise<CommandResponse> {
  const { cmd, ns } = dataCommand(subsystem, sqe, 'Read');
  const { bdev } = ns;
  if (!(bdev instanceof BaseBdev)) return bdev.read(cmd.slba, cmd.blocks).then(readResponse);
  const data = bdev.readNow(cmd.slba, cmd.blocks);
  return data instanceof Promise ? data.then(readResponse) : readResponse(data);
}

/** The bdev's buffer goes to the transport as it is, sent as C2HData without a copy. */
const readResponse = (data: Buffer): CommandResponse => ({ status: SUCCESS_STATUS, data });

/** As read(): at once when the bdev wrote at once, else one `then` on its promise. */
function write(
  subsystem: Subsystem,
  sqe: Buffer,
  data: Buffer | undefined,
): CommandResponse | Promise<CommandResponse> {
  const { cmd, ns, bytes } = dataCommand(subsystem, sqe, 'Write');
  const { bdev } = ns;
  const payloadData = payload(data, bytes, 'Write');
  const opts = cmd.fua ? FUA : undefined;
  if (!(bdev instanceof BaseBdev))
    return bdev.write(cmd.slba, payloadData, opts).then(writeResponse);
  const done = bdev.writeNow(cmd.slba, payloadData, opts);
  return done instanceof Promise ? done.then(writeResponse) : WRITE_DONE;
}

const FUA = { fua: true } as const;
/** The answer of every successful Write; nothing downstream modifies a response. */
const WRITE_DONE: CommandResponse = Object.freeze(success());
const writeResponse = (): CommandResponse => WRITE_DONE;

/** Compare (NVM CS 1.0, 3.2.2): Compare Failure (SCT 2, SC 85h) on the first differing byte. */
async function compare(
  subsystem: Subsystem,
  sqe: Buffer,
  data: Buffer | undefined,
): Promise<CommandResponse> {
  const { cmd, ns, bytes } = dataCommand(subsystem, sqe, 'Compare');
  const expected = payload(data, bytes, 'Compare');
  const stored = await ns.bdev.read(cmd.slba, cmd.blocks);
  if (!stored.equals(expected)) {
    throw compareFailure(`Compare of LBA ${cmd.slba}+${cmd.blocks} found different data`);
  }
  return success();
}

/** Flush; NSID FFFFFFFFh flushes every namespace (Identify VWC bits 2:1 = 11b). */
async function flush(subsystem: Subsystem, sqe: Buffer): Promise<CommandResponse> {
  const nsid = sqe.readUInt32LE(SQE_NSID);
  const targets = nsid === NSID_ALL ? subsystem.namespaces : [namespaceOf(subsystem, nsid)];
  await Promise.all(targets.map((ns) => ns.bdev.flush()));
  return success();
}

async function writeZeroes(subsystem: Subsystem, sqe: Buffer): Promise<CommandResponse> {
  const cmd = blockRange(sqe);
  const ns = namespaceOf(subsystem, cmd.nsid);
  checkLbaRange(ns, cmd.slba, cmd.blocks);
  await ns.bdev.writeZeroes(cmd.slba, cmd.blocks);
  return success();
}

/**
 * Dataset Management (NVM CS 1.0, 3.2.3): with the Deallocate attribute the ranges are
 * deallocated (they read as zeroes after, DLFEAT); without it the hints are accepted and ignored.
 */
async function datasetManagement(
  subsystem: Subsystem,
  sqe: Buffer,
  data: Buffer | undefined,
): Promise<CommandResponse> {
  const cmd = decodeDsmCommand(sqe);
  const ns = namespaceOf(subsystem, cmd.nsid);
  const bytes = cmd.ranges * DSM_RANGE_SIZE;
  expectTransfer(sqe, bytes, 'Dataset Management');
  const ranges = decodeDsmRanges(payload(data, bytes, 'Dataset Management'), cmd.ranges);
  if (!cmd.deallocate) return success();
  const trims: LbaRange[] = [];
  for (const r of ranges) {
    checkLbaRange(ns, r.slba, r.nlb);
    if (r.nlb > 0) trims.push({ lba: r.slba, blocks: r.nlb });
  }
  if (trims.length > 0) await ns.bdev.deallocate(trims);
  return success();
}
