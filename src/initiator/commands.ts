/**
 * The commands the host sends, built from the spec modules in src/nvme, and the small admin
 * exchanges the association runs (Property Get/Set, Identify, Set Features, log page probes).
 * Every builder returns a fresh 64-byte SQE: the transport fills CID and SGL1 in place.
 */
import { SQE_SIZE, encodeSqe } from '../nvme/sqe.js';
import { SmallBuffers } from '../transport/tcp/small-buffers.js';
import { encodeIoCommand, IO_MAX_BLOCKS } from '../nvme/io-command.js';
import {
  FeatureId,
  encodeSetFeatures,
  encodeNumberOfQueues,
  decodeNumberOfQueues,
  NUMBER_OF_QUEUES_MAX,
} from '../nvme/features.js';
import { decodeCqe } from '../nvme/cqe.js';
import { AdminOpcode, IoOpcode } from '../nvme/opcodes.js';
import {
  encodeConnectCommand,
  encodeConnectData,
  decodeConnectResponseDw0,
  encodePropertyGet,
  encodePropertySet,
  decodePropertyGetResponse,
  CNTLID_DYNAMIC,
} from '../nvme/fabrics.js';
import {
  type ControllerCapabilities,
  PROPERTY_CAP,
  PROPERTY_VS,
  PROPERTY_CC,
  PROPERTY_CSTS,
  FABRICS_PROPERTY_SIZES,
  decodeCap,
  encodeCc,
  decodeCsts,
  ShutdownNotification,
  ShutdownStatus,
  CC_CSS_NVM,
  CC_CSS_ALL,
  CC_CSS_ADMIN_ONLY,
  CC_SHN_SHIFT,
  CAP_CSS_NVM,
  CAP_CSS_IOCS,
  CAP_CSS_NO_IO,
  IOSQES_64_BYTES,
  IOCQES_16_BYTES,
} from '../nvme/properties.js';
import {
  type IdentifyController,
  type IdentifyNamespace,
  Cns,
  IDENTIFY_DATA_SIZE,
  encodeIdentifyCommand,
  decodeIdentifyController,
  decodeIdentifyNamespace,
  decodeActiveNsList,
  formattedBlockSize,
  maxDataTransferBytes,
  inCapsuleDataBytes,
  ACTIVE_NS_LIST_MAX,
} from '../nvme/identify.js';
import { DSM_MAX_RANGES, DSM_ATTR_AD, encodeDsmCommand, encodeDsmRanges } from '../nvme/dsm.js';
import {
  NvmeStatusError,
  StatusCodeType,
  CommandSpecificStatus,
  GenericStatus,
} from '../nvme/status.js';
import type { LbaRange } from '../bdev/bdev.js';
import type { QueuePair } from './queue-pair.js';
export {
  type DiscoveryLogEntry,
  DISCOVERY_LOG_PAGE,
  DISCOVERY_LOG_HEADER_SIZE,
  DISCOVERY_LOG_ENTRY_SIZE,
  decodeDiscoveryHeader,
  decodeDiscoveryEntry,
} from '../nvme/log-pages.js';

export type { ControllerCapabilities };
export type ControllerIdentity = IdentifyController;
export interface NamespaceIdentity extends IdentifyNamespace {
  /** Formatted block size in bytes (FLBAS → LBAF → 2^LBADS). */
  blockSize: number;
}
export { PROPERTY_CAP, PROPERTY_VS, PROPERTY_CC, PROPERTY_CSTS, CNTLID_DYNAMIC };

/** Admin queue entries (Linux NVME_AQ_DEPTH): SQSIZE 31 in the admin Connect. */
export const ADMIN_QUEUE_SIZE = 32;
/** NLB is a 16-bit 0-based field: one Read/Write/Write Zeroes covers at most 65536 blocks. */
export const MAX_BLOCKS_PER_COMMAND = IO_MAX_BLOCKS;
export const MAX_DSM_RANGES = DSM_MAX_RANGES;
/** A DSM range's NLB is a 32-bit count. */
export const MAX_DSM_RANGE_BLOCKS = 0xffffffff;
/** Vendor-specific log page: LBA allocation map of a namespace (this project's extension). */
export const ALLOCATION_MAP_LOG_PAGE = 0xc0;

// ---- Fabrics --------------------------------------------------------------------------------------

export function connectCommand(o: {
  qid: number;
  sqsize: number;
  kato: number;
  hostid: Buffer;
  cntlid: number;
  subnqn: string;
  hostnqn: string;
}): { sqe: Buffer; data: Buffer } {
  return {
    sqe: encodeConnectCommand({ qid: o.qid, sqsize: o.sqsize, kato: o.kato }),
    data: encodeConnectData({
      hostid: o.hostid,
      cntlid: o.cntlid,
      subnqn: o.subnqn,
      hostnqn: o.hostnqn,
    }),
  };
}

/** CNTLID from a successful Connect response. */
export const connectResult = (cqe: Buffer): number =>
  decodeConnectResponseDw0(decodeCqe(cqe).dw0).cntlid;

const PROPERTY_NAMES: Record<number, string> = {
  [PROPERTY_CAP]: 'CAP',
  [PROPERTY_VS]: 'VS',
  [PROPERTY_CC]: 'CC',
  [PROPERTY_CSTS]: 'CSTS',
};

export async function propertyGet(admin: QueuePair, offset: number): Promise<bigint> {
  const size = FABRICS_PROPERTY_SIZES.get(offset) ?? 4;
  const { cqe } = await admin.submit(
    encodePropertyGet({ offset, size }),
    undefined,
    `Property Get ${PROPERTY_NAMES[offset] ?? offset}`,
  );
  const { dw0, dw1 } = decodeCqe(cqe);
  return size === 8 ? decodePropertyGetResponse(dw0, dw1) : BigInt(dw0 >>> 0);
}

export async function propertySet(admin: QueuePair, offset: number, value: number): Promise<void> {
  await admin.submit(
    encodePropertySet({ offset, size: 4, value }),
    undefined,
    `Property Set ${PROPERTY_NAMES[offset] ?? offset} = 0x${value.toString(16)}`,
  );
}

export const readCapabilities = async (admin: QueuePair): Promise<ControllerCapabilities> =>
  decodeCap(await propertyGet(admin, PROPERTY_CAP));

/**
 * CC.CSS for what CAP.CSS offers (NVMe Base 2.0, Figure 41): the NVM command set when supported;
 * "all supported I/O command sets" when the controller only reports CAP.CSS bit 6; admin only for a
 * controller without I/O command sets (a discovery controller may report that).
 */
export function commandSetFor(cap: Pick<ControllerCapabilities, 'css'>): number {
  if (cap.css & CAP_CSS_NVM) return CC_CSS_NVM;
  if (cap.css & CAP_CSS_IOCS) return CC_CSS_ALL;
  if (cap.css & CAP_CSS_NO_IO) return CC_CSS_ADMIN_ONLY;
  return CC_CSS_NVM;
}

/**
 * CC for enabling (NVMe Base 2.0, 3.5.2): the command set from CAP.CSS, the smallest memory page
 * size the controller supports (CAP.MPSMIN; no host memory is mapped over a fabric), 64-byte SQEs
 * and 16-byte CQEs (the only sizes NVMe-oF allows).
 */
export const enableConfiguration = (cap: Pick<ControllerCapabilities, 'css' | 'mpsmin'>): number =>
  encodeCc({
    en: true,
    css: commandSetFor(cap),
    mps: cap.mpsmin,
    iosqes: IOSQES_64_BYTES,
    iocqes: IOCQES_16_BYTES,
  });

/** CC for a normal shutdown notification (EN stays 1, as Linux nvme_shutdown_ctrl does). */
export const shutdownConfiguration = (
  cap: Pick<ControllerCapabilities, 'css' | 'mpsmin'>,
): number => (enableConfiguration(cap) | (ShutdownNotification.Normal << CC_SHN_SHIFT)) >>> 0;

export async function readStatus(admin: QueuePair) {
  const csts = decodeCsts(Number(await propertyGet(admin, PROPERTY_CSTS)));
  return { ...csts, shutdownComplete: csts.shst === ShutdownStatus.Complete };
}

// ---- Identify -------------------------------------------------------------------------------------

async function identify(
  admin: QueuePair,
  cns: number,
  nsid: number,
  what: string,
): Promise<Buffer> {
  const { data } = await admin.submit(
    encodeIdentifyCommand({ cns, nsid }),
    { readLength: IDENTIFY_DATA_SIZE },
    what,
  );
  if (!data || data.length !== IDENTIFY_DATA_SIZE) {
    throw new NvmeStatusError(
      StatusCodeType.Generic,
      GenericStatus.DataTransferError,
      `${what} returned ${data?.length ?? 0} bytes, expected ${IDENTIFY_DATA_SIZE}`,
      false,
    );
  }
  return data;
}

export const identifyController = async (admin: QueuePair): Promise<ControllerIdentity> =>
  decodeIdentifyController(await identify(admin, Cns.Controller, 0, 'Identify Controller'));

export async function identifyNamespace(
  admin: QueuePair,
  nsid: number,
): Promise<NamespaceIdentity> {
  const ns = decodeIdentifyNamespace(
    await identify(admin, Cns.Namespace, nsid, `Identify Namespace ${nsid}`),
  );
  const blockSize = formattedBlockSize(ns) ?? 0;
  return { ...ns, blockSize };
}

/** All active NSIDs: lists of up to 1024, each continuing after the last NSID seen. */
export async function activeNamespaces(admin: QueuePair): Promise<number[]> {
  const all: number[] = [];
  for (let after = 0; ;) {
    const list = decodeActiveNsList(
      await identify(admin, Cns.ActiveNamespaceList, after, 'Identify Active Namespace List'),
    );
    all.push(...list);
    if (list.length < ACTIVE_NS_LIST_MAX) return all;
    after = list[list.length - 1];
  }
}

/** MDTS in bytes (Infinity = no limit). */
export const maxTransferBytes = (id: ControllerIdentity, cap: ControllerCapabilities): number =>
  maxDataTransferBytes(id.mdts, cap.mpsmin);

/** In-capsule data an I/O queue takes: IOCCSZ*16 - 64 (NVMe-oF 1.1, 4.1). */
export const ioInCapsuleDataSize = (id: ControllerIdentity): number =>
  inCapsuleDataBytes(id.ioccsz);

// ---- Features and log pages -----------------------------------------------------------------------

/**
 * Set Features Number of Queues (NVMe Base 2.0, 5.27.1.5): asks for `wanted` I/O SQs and CQs;
 * the completion's DW0 holds what was allocated. Returns the usable I/O queue count.
 */
export async function setNumberOfQueues(admin: QueuePair, wanted: number): Promise<number> {
  const count = Math.min(wanted, NUMBER_OF_QUEUES_MAX);
  const { cqe } = await admin.submit(
    encodeSetFeatures({
      fid: FeatureId.NumberOfQueues,
      cdw11: encodeNumberOfQueues({ sqCount: count, cqCount: count }),
    }),
    undefined,
    `Set Features Number of Queues ${count}`,
  );
  const granted = decodeNumberOfQueues(decodeCqe(cqe).dw0);
  return Math.min(count, granted.sqCount, granted.cqCount);
}

/** Get Log Page (NVMe Base 2.0, 5.16, Figure 197): LID, NUMD (0-based dwords), LPO in bytes. */
export function getLogPageCommand(o: {
  lid: number;
  nsid: number;
  offset: number;
  length: number;
  rae?: boolean;
}): Buffer {
  const numd = o.length / 4 - 1;
  if (!Number.isInteger(numd) || numd < 0 || o.offset % 4 !== 0) {
    throw new RangeError(
      `log page reads are whole dwords; got offset ${o.offset} length ${o.length}`,
    );
  }
  return encodeSqe({
    opcode: AdminOpcode.GetLogPage,
    nsid: o.nsid,
    cdw10: (o.lid & 0xff) | (o.rae ? 1 << 15 : 0) | ((numd & 0xffff) << 16),
    cdw11: Math.floor(numd / 0x10000) & 0xffff,
    cdw12: o.offset % 2 ** 32,
    cdw13: Math.floor(o.offset / 2 ** 32),
  });
}

/**
 * True when the controller serves log page `lid` for `nsid`: reads its first dword. Invalid Log
 * Page (or Invalid Field) means no; any other failure is rethrown.
 */
export async function probeLogPage(admin: QueuePair, lid: number, nsid: number): Promise<boolean> {
  try {
    await admin.submit(
      getLogPageCommand({ lid, nsid, offset: 0, length: 4 }),
      { readLength: 4 },
      `Get Log Page 0x${lid.toString(16)} nsid ${nsid}`,
    );
    return true;
  } catch (err) {
    if (
      err instanceof NvmeStatusError &&
      (err.is(StatusCodeType.CommandSpecific, CommandSpecificStatus.InvalidLogPage) ||
        err.is(StatusCodeType.Generic, GenericStatus.InvalidField))
    ) {
      return false;
    }
    throw err;
  }
}

export const keepAliveCommand = (): Buffer => encodeSqe({ opcode: AdminOpcode.KeepAlive });

// ---- NVM I/O --------------------------------------------------------------------------------------

/** Where the data path's SQEs live (small-buffers.ts: a view of a slab, not an ArrayBuffer each). */
const sqes = new SmallBuffers();

export const readCommand = (nsid: number, lba: number, blocks: number): Buffer =>
  encodeIoCommand({ opcode: IoOpcode.Read, nsid, slba: lba, blocks }, sqes.take(SQE_SIZE));

export const writeCommand = (nsid: number, lba: number, blocks: number, fua: boolean): Buffer =>
  encodeIoCommand({ opcode: IoOpcode.Write, nsid, slba: lba, blocks, fua }, sqes.take(SQE_SIZE));

export const writeZeroesCommand = (nsid: number, lba: number, blocks: number): Buffer =>
  encodeIoCommand({ opcode: IoOpcode.WriteZeroes, nsid, slba: lba, blocks });

export const compareCommand = (nsid: number, lba: number, blocks: number): Buffer =>
  encodeIoCommand({ opcode: IoOpcode.Compare, nsid, slba: lba, blocks });

export const flushCommand = (nsid: number): Buffer => encodeSqe({ opcode: IoOpcode.Flush, nsid });

/** Dataset Management with the Deallocate attribute over 1..256 ranges. */
export function deallocateCommand(
  nsid: number,
  ranges: readonly LbaRange[],
): { sqe: Buffer; data: Buffer } {
  return {
    sqe: encodeDsmCommand({ nsid, ranges: ranges.length, attributes: DSM_ATTR_AD }),
    data: encodeDsmRanges(ranges.map((r) => ({ slba: r.lba, nlb: r.blocks }))),
  };
}
