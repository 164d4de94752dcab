/**
 * Identify (NVMe Base 2.0, 5.17): the command's CNS values and CDWs, the Active Namespace ID list
 * (CNS 02h) and the Namespace Identification Descriptor list (CNS 03h). The Controller (CNS 01h) and
 * Namespace (CNS 00h) structures live in identify-controller.ts / identify-namespace.ts and are
 * re-exported here.
 */
import { AdminOpcode } from './opcodes.js';
import { SQE_SIZE, decodeSqe, encodeSqe } from './sqe.js';
import { need } from './codec.js';

export * from './identify-controller.js';
export * from './identify-namespace.js';

/** Every Identify data structure is 4096 bytes. */
export const IDENTIFY_DATA_SIZE = 4096;

/** Controller or Namespace Structure (CNS), CDW10 bits 7:0 (NVMe Base 2.0, Figure 273). */
export const enum Cns {
  Namespace = 0x00,
  Controller = 0x01,
  ActiveNamespaceList = 0x02,
  NamespaceIdDescriptors = 0x03,
  NvmSetList = 0x04,
  IoCommandSetNamespace = 0x05,
  IoCommandSetController = 0x06,
  IoCommandSetActiveNamespaceList = 0x07,
  IoCommandSetIndependentNamespace = 0x08,
  AllocatedNamespaceList = 0x10,
  AllocatedNamespace = 0x11,
  NamespaceControllerList = 0x12,
  ControllerList = 0x13,
  PrimaryControllerCapabilities = 0x14,
  SecondaryControllerList = 0x15,
  NamespaceGranularityList = 0x16,
  UuidList = 0x17,
  DomainList = 0x18,
  EnduranceGroupList = 0x19,
  IoCommandSetAllocatedNamespaceList = 0x1a,
  IoCommandSetAllocatedNamespace = 0x1b,
  IoCommandSetDataStructure = 0x1c,
}

/** Command Set Identifier (CSI), CDW11 bits 31:24 and NIDT 04h. */
export const enum CommandSetId {
  Nvm = 0x00,
  KeyValue = 0x01,
  ZonedNamespace = 0x02,
}

// CDW10: CNS bits 7:0, CNTID bits 31:16. CDW11: CNS Specific Identifier 15:0, CSI 31:24.
// CDW14: UUID Index bits 6:0.
export interface IdentifyCommand {
  cid: number;
  nsid: number;
  cns: number;
  cntid: number;
  cnssid: number;
  csi: number;
  uuidIndex: number;
}

export function encodeIdentifyCommand(
  init: Partial<IdentifyCommand> & Pick<IdentifyCommand, 'cns'>,
  out: Buffer = Buffer.alloc(SQE_SIZE),
  offset = 0,
): Buffer {
  return encodeSqe(
    {
      opcode: AdminOpcode.Identify,
      cid: init.cid ?? 0,
      nsid: init.nsid ?? 0,
      cdw10: ((init.cns & 0xff) | ((init.cntid ?? 0) << 16)) >>> 0,
      cdw11: (((init.cnssid ?? 0) & 0xffff) | (((init.csi ?? 0) & 0xff) << 24)) >>> 0,
      cdw14: (init.uuidIndex ?? 0) & 0x7f,
    },
    out,
    offset,
  );
}

export function decodeIdentifyCommand(sqe: Buffer, offset = 0): IdentifyCommand {
  const s = decodeSqe(sqe, offset);
  return {
    cid: s.cid,
    nsid: s.nsid,
    cns: s.cdw10 & 0xff,
    cntid: s.cdw10 >>> 16,
    cnssid: s.cdw11 & 0xffff,
    csi: s.cdw11 >>> 24,
    uuidIndex: s.cdw14 & 0x7f,
  };
}

// ---- Active Namespace ID list (CNS 02h, 5.17.2.2): up to 1024 u32 NSIDs, ascending, 0-terminated
export const ACTIVE_NS_LIST_SIZE = 4096;
export const ACTIVE_NS_LIST_MAX = 1024;

/**
 * Encodes NSIDs (each 1..FFFFFFFEh, ascending). The controller returns NSIDs greater than the
 * command's NSID, at most 1024: the caller filters and slices; more than 1024 is a RangeError.
 */
export function encodeActiveNsList(
  nsids: readonly number[],
  out: Buffer = Buffer.alloc(ACTIVE_NS_LIST_SIZE),
  offset = 0,
): Buffer {
  need(out, offset, ACTIVE_NS_LIST_SIZE, 'Active Namespace ID list');
  if (nsids.length > ACTIVE_NS_LIST_MAX) {
    throw new RangeError(`${nsids.length} NSIDs do not fit in one list of ${ACTIVE_NS_LIST_MAX}`);
  }
  out.fill(0, offset, offset + ACTIVE_NS_LIST_SIZE);
  let prev = 0;
  nsids.forEach((nsid, i) => {
    if (!Number.isInteger(nsid) || nsid <= prev || nsid >= 0xffffffff) {
      throw new RangeError(`NSID ${nsid} at ${i} is not a valid NSID above ${prev}`);
    }
    out.writeUInt32LE(nsid, offset + i * 4);
    prev = nsid;
  });
  return out;
}

/** Decodes the list up to its first zero entry. RangeError when `buf` is short. */
export function decodeActiveNsList(buf: Buffer, offset = 0): number[] {
  need(buf, offset, ACTIVE_NS_LIST_SIZE, 'Active Namespace ID list');
  const nsids: number[] = [];
  for (let i = 0; i < ACTIVE_NS_LIST_MAX; i++) {
    const nsid = buf.readUInt32LE(offset + i * 4);
    if (nsid === 0) break;
    nsids.push(nsid);
  }
  return nsids;
}

// ---- Namespace Identification Descriptor list (CNS 03h, 5.17.2.3, Figure 277) --------------------
export const NS_ID_DESCRIPTOR_LIST_SIZE = 4096;
export const NIDD_NIDT = 0; // u8 Namespace Identifier Type
export const NIDD_NIDL = 1; // u8 Namespace Identifier Length
export const NIDD_NID = 4; // NIDL bytes of identifier (bytes 2..3 reserved)
export const NIDD_HEADER_SIZE = 4;

export const enum NsIdType {
  Eui64 = 0x1,
  Nguid = 0x2,
  Uuid = 0x3,
  Csi = 0x4,
}

/** The NIDL each type must have. */
export const NS_ID_LENGTH: Readonly<Record<number, number>> = {
  [NsIdType.Eui64]: 8,
  [NsIdType.Nguid]: 16,
  [NsIdType.Uuid]: 16,
  [NsIdType.Csi]: 1,
};

export interface NsIdDescriptor {
  nidt: number;
  nid: Buffer;
}

/** Encodes the descriptors followed by zeroes (a zero NIDT/NIDL ends the list). */
export function encodeNsIdDescriptors(
  descriptors: readonly NsIdDescriptor[],
  out: Buffer = Buffer.alloc(NS_ID_DESCRIPTOR_LIST_SIZE),
  offset = 0,
): Buffer {
  need(out, offset, NS_ID_DESCRIPTOR_LIST_SIZE, 'Namespace Identification Descriptor list');
  out.fill(0, offset, offset + NS_ID_DESCRIPTOR_LIST_SIZE);
  let at = 0;
  for (const d of descriptors) {
    const want = NS_ID_LENGTH[d.nidt];
    if (want !== undefined && d.nid.length !== want) {
      throw new RangeError(`NIDT ${d.nidt} needs a ${want}-byte identifier, got ${d.nid.length}`);
    }
    if (d.nid.length === 0 || d.nid.length > 255 || d.nidt === 0 || d.nidt > 255) {
      throw new RangeError(`descriptor NIDT ${d.nidt} with ${d.nid.length} bytes is not encodable`);
    }
    if (at + NIDD_HEADER_SIZE + d.nid.length > NS_ID_DESCRIPTOR_LIST_SIZE) {
      throw new RangeError('Namespace Identification Descriptors exceed 4096 bytes');
    }
    out[offset + at + NIDD_NIDT] = d.nidt;
    out[offset + at + NIDD_NIDL] = d.nid.length;
    out.set(d.nid, offset + at + NIDD_NID);
    at += NIDD_HEADER_SIZE + d.nid.length;
  }
  return out;
}

/**
 * Decodes descriptors until one with NIDL 0 (or NIDT 0), or one that would run past the 4096
 * bytes (a malformed tail is dropped). RangeError when `buf` is short.
 */
export function decodeNsIdDescriptors(buf: Buffer, offset = 0): NsIdDescriptor[] {
  need(buf, offset, NS_ID_DESCRIPTOR_LIST_SIZE, 'Namespace Identification Descriptor list');
  const list: NsIdDescriptor[] = [];
  let at = 0;
  while (at + NIDD_HEADER_SIZE <= NS_ID_DESCRIPTOR_LIST_SIZE) {
    const nidt = buf[offset + at + NIDD_NIDT];
    const nidl = buf[offset + at + NIDD_NIDL];
    if (nidt === 0 || nidl === 0) break;
    const start = offset + at + NIDD_NID;
    if (at + NIDD_HEADER_SIZE + nidl > NS_ID_DESCRIPTOR_LIST_SIZE) break;
    list.push({ nidt, nid: Buffer.from(buf.subarray(start, start + nidl)) });
    at += NIDD_HEADER_SIZE + nidl;
  }
  return list;
}
