/**
 * The Discovery log page (LID 70h, NVMe-oF 1.1, 5.3, Figures 36-38): a 1024-byte header, then
 * one 1024-byte entry per subsystem port a host may connect to. Layout checked against Linux
 * include/linux/nvme.h (nvmf_disc_rsp_page_hdr/_entry) and SPDK include/spdk/nvmf_spec.h.
 * Re-exported by log-pages.ts.
 */
import { type FieldSpec, decodeLayout, encodeLayout, need, readU64, writeU64 } from './codec.js';

/** Log Page Identifier 70h (LogPageId.Discovery in log-pages.ts). */
export const DISCOVERY_LOG_PAGE = 0x70;
export const DISCOVERY_LOG_HEADER_SIZE = 1024;
export const DISCOVERY_LOG_ENTRY_SIZE = 1024;
export const DISC_HDR_GENCTR = 0; // u64 Generation Counter, bumped on every change
export const DISC_HDR_NUMREC = 8; // u64 Number of Records
export const DISC_HDR_RECFMT = 16; // u16 Record Format, 0
export const DISCOVERY_RECFMT_0 = 0;

export const DISC_ENTRY_TRTYPE = 0; // u8 Transport Type
export const DISC_ENTRY_ADRFAM = 1; // u8 Address Family
export const DISC_ENTRY_SUBTYPE = 2; // u8 Subsystem Type
export const DISC_ENTRY_TREQ = 3; // u8 Transport Requirements
export const DISC_ENTRY_PORTID = 4; // u16 Port ID
export const DISC_ENTRY_CNTLID = 6; // u16 Controller ID (FFFFh: dynamic)
export const DISC_ENTRY_ASQSZ = 8; // u16 Admin Max SQ Size
export const DISC_ENTRY_EFLAGS = 10; // u16 Entry Flags (TP 8013)
export const DISC_ENTRY_TRSVCID = 32; // 32 B Transport Service Identifier, ASCII (a port number)
export const DISC_ENTRY_TRADDR = 256; // 256 B Transport Address, ASCII
export const DISC_ENTRY_SUBNQN = 512; // 256 B NVM Subsystem Qualified Name
export const DISC_ENTRY_TSAS = 768; // 256 B Transport Specific Address Subtype
/** TSAS for TCP: byte 0 Security Type (NVMe/TCP 1.0, 3.x / TP 8011). */
export const DISC_ENTRY_TCP_SECTYPE = DISC_ENTRY_TSAS;
export const TRSVCID_SIZE = 32;
export const TRADDR_SIZE = 256;
export const DISC_NQN_SIZE = 256;
export const TSAS_SIZE = 256;

/** TRTYPE (NVMe-oF 1.1, Figure 38). */
export const enum TransportType {
  Rdma = 1,
  FibreChannel = 2,
  Tcp = 3,
  Loop = 254,
}

/** ADRFAM. */
export const enum AddressFamily {
  Pci = 0,
  Ipv4 = 1,
  Ipv6 = 2,
  InfiniBand = 3,
  FibreChannel = 4,
  Loop = 254,
}

/** SUBTYPE. */
export const enum SubsystemType {
  DiscoveryReferral = 1,
  Nvme = 2,
  CurrentDiscovery = 3,
}

/** TREQ bits 1:0 secure channel; bit 2 SQ flow control disable supported. */
export const enum TransportRequirements {
  NotSpecified = 0,
  SecureRequired = 1,
  SecureNotRequired = 2,
}
export const TREQ_DISABLE_SQFLOW = 1 << 2;

/** TCP SECTYPE in TSAS byte 0. */
export const enum TcpSecurityType {
  None = 0,
  Tls12 = 1,
  Tls13 = 2,
}

export interface DiscoveryLogHeader {
  genctr: bigint;
  numrec: number;
  recfmt: number;
}

export interface DiscoveryLogEntry {
  trtype: number;
  adrfam: number;
  subtype: number;
  treq: number;
  portid: number;
  cntlid: number;
  asqsz: number;
  eflags: number;
  trsvcid: string;
  traddr: string;
  subnqn: string;
  /** Transport Specific Address Subtype, 256 bytes; for TCP byte 0 is SECTYPE. */
  tsas: Buffer;
}

export function encodeDiscoveryHeader(
  h: Partial<DiscoveryLogHeader>,
  out: Buffer = Buffer.alloc(DISCOVERY_LOG_HEADER_SIZE),
  offset = 0,
): Buffer {
  need(out, offset, DISCOVERY_LOG_HEADER_SIZE, 'Discovery log header');
  out.fill(0, offset, offset + DISCOVERY_LOG_HEADER_SIZE);
  out.writeBigUInt64LE(h.genctr ?? 0n, offset + DISC_HDR_GENCTR);
  writeU64(out, h.numrec ?? 0, offset + DISC_HDR_NUMREC);
  out.writeUInt16LE(h.recfmt ?? DISCOVERY_RECFMT_0, offset + DISC_HDR_RECFMT);
  return out;
}

export function decodeDiscoveryHeader(buf: Buffer, offset = 0): DiscoveryLogHeader {
  need(buf, offset, DISCOVERY_LOG_HEADER_SIZE, 'Discovery log header');
  return {
    genctr: buf.readBigUInt64LE(offset + DISC_HDR_GENCTR),
    numrec: readU64(buf, offset + DISC_HDR_NUMREC),
    recfmt: buf.readUInt16LE(offset + DISC_HDR_RECFMT),
  };
}

type EntryKey = keyof DiscoveryLogEntry;
const ENTRY_LAYOUT: readonly FieldSpec<EntryKey>[] = [
  { key: 'trtype', offset: DISC_ENTRY_TRTYPE, kind: 'u8' },
  { key: 'adrfam', offset: DISC_ENTRY_ADRFAM, kind: 'u8' },
  { key: 'subtype', offset: DISC_ENTRY_SUBTYPE, kind: 'u8' },
  { key: 'treq', offset: DISC_ENTRY_TREQ, kind: 'u8' },
  { key: 'portid', offset: DISC_ENTRY_PORTID, kind: 'u16' },
  { key: 'cntlid', offset: DISC_ENTRY_CNTLID, kind: 'u16' },
  { key: 'asqsz', offset: DISC_ENTRY_ASQSZ, kind: 'u16' },
  { key: 'eflags', offset: DISC_ENTRY_EFLAGS, kind: 'u16' },
  // TRSVCID and TRADDR are ASCII strings that Linux nvmet and SPDK pad with spaces or NULs;
  // 'ascii' trims both on decode. They are written space padded as the spec's ASCII fields are.
  { key: 'trsvcid', offset: DISC_ENTRY_TRSVCID, kind: 'ascii', size: TRSVCID_SIZE },
  { key: 'traddr', offset: DISC_ENTRY_TRADDR, kind: 'ascii', size: TRADDR_SIZE },
  { key: 'subnqn', offset: DISC_ENTRY_SUBNQN, kind: 'string', size: DISC_NQN_SIZE },
  { key: 'tsas', offset: DISC_ENTRY_TSAS, kind: 'bytes', size: TSAS_SIZE },
];

export const encodeDiscoveryEntry = (
  e: Partial<DiscoveryLogEntry>,
  out: Buffer = Buffer.alloc(DISCOVERY_LOG_ENTRY_SIZE),
  offset = 0,
): Buffer =>
  encodeLayout(ENTRY_LAYOUT, DISCOVERY_LOG_ENTRY_SIZE, e, out, offset, 'Discovery log entry');

export const decodeDiscoveryEntry = (buf: Buffer, offset = 0): DiscoveryLogEntry =>
  decodeLayout(
    ENTRY_LAYOUT,
    DISCOVERY_LOG_ENTRY_SIZE,
    buf,
    offset,
    'Discovery log entry',
  ) as unknown as DiscoveryLogEntry;

/** TSAS for a TCP entry: SECTYPE in byte 0, the rest zero. */
export function tcpTsas(sectype: number = TcpSecurityType.None): Buffer {
  const tsas = Buffer.alloc(TSAS_SIZE);
  tsas[DISC_ENTRY_TCP_SECTYPE - DISC_ENTRY_TSAS] = sectype;
  return tsas;
}

/** The whole discovery log: header, then one entry per record. */
export function encodeDiscoveryLog(
  genctr: bigint,
  entries: readonly Partial<DiscoveryLogEntry>[],
): Buffer {
  const out = Buffer.alloc(DISCOVERY_LOG_HEADER_SIZE + entries.length * DISCOVERY_LOG_ENTRY_SIZE);
  encodeDiscoveryHeader({ genctr, numrec: entries.length }, out, 0);
  entries.forEach((e, i) =>
    encodeDiscoveryEntry(e, out, DISCOVERY_LOG_HEADER_SIZE + i * DISCOVERY_LOG_ENTRY_SIZE),
  );
  return out;
}
