/**
 * Identify Namespace data structure for the NVM Command Set, CNS 00h: 4096 bytes (NVM Command Set
 * 1.0, 4.1.5.1, Figure 97; NVMe Base 1.4 Figure 247).
 */
import { type FieldSpec, decodeLayout, encodeLayout } from './codec.js';

export const IDENTIFY_NAMESPACE_SIZE = 4096;

export const ID_NS_NSZE = 0; // u64 Namespace Size, logical blocks
export const ID_NS_NCAP = 8; // u64 Namespace Capacity, logical blocks
export const ID_NS_NUSE = 16; // u64 Namespace Utilization, logical blocks
export const ID_NS_NSFEAT = 24; // u8 Namespace Features
export const ID_NS_NLBAF = 25; // u8 Number of LBA Formats, 0-based
export const ID_NS_FLBAS = 26; // u8 Formatted LBA Size
export const ID_NS_MC = 27; // u8 Metadata Capabilities
export const ID_NS_DPC = 28; // u8 End-to-end Data Protection Capabilities
export const ID_NS_DPS = 29; // u8 End-to-end Data Protection Type Settings
export const ID_NS_NMIC = 30; // u8 Namespace Multi-path I/O and Namespace Sharing Capabilities
export const ID_NS_RESCAP = 31; // u8 Reservation Capabilities
export const ID_NS_FPI = 32; // u8 Format Progress Indicator
export const ID_NS_DLFEAT = 33; // u8 Deallocate Logical Block Features
export const ID_NS_NAWUN = 34; // u16 Namespace Atomic Write Unit Normal, 0-based
export const ID_NS_NAWUPF = 36; // u16 Namespace Atomic Write Unit Power Fail, 0-based
export const ID_NS_NACWU = 38; // u16 Namespace Atomic Compare & Write Unit, 0-based
export const ID_NS_NABSN = 40; // u16 Namespace Atomic Boundary Size Normal
export const ID_NS_NABO = 42; // u16 Namespace Atomic Boundary Offset
export const ID_NS_NABSPF = 44; // u16 Namespace Atomic Boundary Size Power Fail
export const ID_NS_NOIOB = 46; // u16 Namespace Optimal I/O Boundary, blocks
export const ID_NS_NVMCAP = 48; // u128 NVM Capacity, bytes
export const ID_NS_NPWG = 64; // u16 Namespace Preferred Write Granularity, 0-based blocks
export const ID_NS_NPWA = 66; // u16 Namespace Preferred Write Alignment, 0-based
export const ID_NS_NPDG = 68; // u16 Namespace Preferred Deallocate Granularity, 0-based
export const ID_NS_NPDA = 70; // u16 Namespace Preferred Deallocate Alignment, 0-based
export const ID_NS_NOWS = 72; // u16 Namespace Optimal Write Size, 0-based
export const ID_NS_MSSRL = 74; // u16 Maximum Single Source Range Length (Copy)
export const ID_NS_MCL = 76; // u32 Maximum Copy Length
export const ID_NS_MSRC = 80; // u8 Maximum Source Range Count, 0-based
export const ID_NS_ANAGRPID = 92; // u32 ANA Group Identifier
export const ID_NS_NSATTR = 99; // u8 Namespace Attributes (bit 0 write protected)
export const ID_NS_NVMSETID = 100; // u16 NVM Set Identifier
export const ID_NS_ENDGID = 102; // u16 Endurance Group Identifier
export const ID_NS_NGUID = 104; // 16 B Namespace Globally Unique Identifier
export const ID_NS_EUI64 = 120; // 8 B IEEE Extended Unique Identifier
export const ID_NS_LBAF0 = 128; // LBA Format 0..63, 4 bytes each
export const LBA_FORMAT_SIZE = 4;
export const MAX_LBA_FORMATS = 64;

/** LBA Format: MS bits 15:0 metadata bytes, LBADS bits 23:16 log2 block size, RP bits 25:24. */
export const LBAF_MS = 0; // u16
export const LBAF_LBADS = 2; // u8
export const LBAF_RP = 3; // u8 bits 1:0

export const enum RelativePerformance {
  Best = 0,
  Better = 1,
  Good = 2,
  Degraded = 3,
}

/** NSFEAT bits. */
export const NSFEAT_THIN_PROVISIONING = 1 << 0;
export const NSFEAT_NS_ATOMICS = 1 << 1; // NAWUN, NAWUPF, NACWU valid
export const NSFEAT_DEALLOCATED_ERROR = 1 << 2; // DULBE supported
export const NSFEAT_UID_REUSE = 1 << 3;
export const NSFEAT_OPTIMAL_PERFORMANCE = 1 << 4; // NPWG..NOWS valid

/** DLFEAT bits 2:0: what a deallocated block reads as; bit 3: Write Zeroes may deallocate. */
export const DLFEAT_READ_NOT_REPORTED = 0b000;
export const DLFEAT_READ_ZEROES = 0b001;
export const DLFEAT_READ_ONES = 0b010;
export const DLFEAT_WRITE_ZEROES_DEALLOCATE = 1 << 3;
export const DLFEAT_GUARD_CRC = 1 << 4;

/** NMIC bit 0: the namespace may be attached to two or more controllers. */
export const NMIC_SHARED = 1 << 0;
/** FLBAS bit 4: metadata transferred at the end of each block (extended LBA). */
export const FLBAS_EXTENDED_METADATA = 1 << 4;

export interface LbaFormat {
  /** Metadata bytes per block. */
  ms: number;
  /** log2 of the block size (9 = 512, 12 = 4096); 0 = format not supported. */
  lbads: number;
  rp: number;
}

export interface IdentifyNamespace {
  nsze: number;
  ncap: number;
  nuse: number;
  nsfeat: number;
  /** Number of LBA formats, 0-based. */
  nlbaf: number;
  flbas: number;
  mc: number;
  dpc: number;
  dps: number;
  nmic: number;
  rescap: number;
  fpi: number;
  dlfeat: number;
  nawun: number;
  nawupf: number;
  nacwu: number;
  nabsn: number;
  nabo: number;
  nabspf: number;
  noiob: number;
  nvmcap: bigint;
  npwg: number;
  npwa: number;
  npdg: number;
  npda: number;
  nows: number;
  mssrl: number;
  mcl: number;
  msrc: number;
  anagrpid: number;
  nsattr: number;
  nvmsetid: number;
  endgid: number;
  nguid: Buffer;
  eui64: Buffer;
  /** The nlbaf + 1 supported formats. */
  lbaf: LbaFormat[];
}

type K = Exclude<keyof IdentifyNamespace, 'lbaf'>;
const u8 = (key: K, offset: number): FieldSpec<K> => ({ key, offset, kind: 'u8' });
const u16 = (key: K, offset: number): FieldSpec<K> => ({ key, offset, kind: 'u16' });

const LAYOUT: readonly FieldSpec<K>[] = [
  { key: 'nsze', offset: ID_NS_NSZE, kind: 'u64' },
  { key: 'ncap', offset: ID_NS_NCAP, kind: 'u64' },
  { key: 'nuse', offset: ID_NS_NUSE, kind: 'u64' },
  u8('nsfeat', ID_NS_NSFEAT),
  u8('nlbaf', ID_NS_NLBAF),
  u8('flbas', ID_NS_FLBAS),
  u8('mc', ID_NS_MC),
  u8('dpc', ID_NS_DPC),
  u8('dps', ID_NS_DPS),
  u8('nmic', ID_NS_NMIC),
  u8('rescap', ID_NS_RESCAP),
  u8('fpi', ID_NS_FPI),
  u8('dlfeat', ID_NS_DLFEAT),
  u16('nawun', ID_NS_NAWUN),
  u16('nawupf', ID_NS_NAWUPF),
  u16('nacwu', ID_NS_NACWU),
  u16('nabsn', ID_NS_NABSN),
  u16('nabo', ID_NS_NABO),
  u16('nabspf', ID_NS_NABSPF),
  u16('noiob', ID_NS_NOIOB),
  { key: 'nvmcap', offset: ID_NS_NVMCAP, kind: 'u128' },
  u16('npwg', ID_NS_NPWG),
  u16('npwa', ID_NS_NPWA),
  u16('npdg', ID_NS_NPDG),
  u16('npda', ID_NS_NPDA),
  u16('nows', ID_NS_NOWS),
  u16('mssrl', ID_NS_MSSRL),
  { key: 'mcl', offset: ID_NS_MCL, kind: 'u32' },
  u8('msrc', ID_NS_MSRC),
  { key: 'anagrpid', offset: ID_NS_ANAGRPID, kind: 'u32' },
  u8('nsattr', ID_NS_NSATTR),
  u16('nvmsetid', ID_NS_NVMSETID),
  u16('endgid', ID_NS_ENDGID),
  { key: 'nguid', offset: ID_NS_NGUID, kind: 'bytes', size: 16 },
  { key: 'eui64', offset: ID_NS_EUI64, kind: 'bytes', size: 8 },
];

/**
 * Encodes Identify Namespace data. `nlbaf` defaults to `lbaf.length - 1`; missing fields are
 * zero. RangeError when a value does not fit or more than 64 LBA formats are given.
 */
export function encodeIdentifyNamespace(
  fields: Partial<IdentifyNamespace>,
  out: Buffer = Buffer.alloc(IDENTIFY_NAMESPACE_SIZE),
  offset = 0,
): Buffer {
  const lbaf = fields.lbaf ?? [];
  if (lbaf.length > MAX_LBA_FORMATS) {
    throw new RangeError(`${lbaf.length} LBA formats given, at most ${MAX_LBA_FORMATS} exist`);
  }
  const nlbaf = fields.nlbaf ?? Math.max(0, lbaf.length - 1);
  encodeLayout(
    LAYOUT,
    IDENTIFY_NAMESPACE_SIZE,
    { ...fields, nlbaf },
    out,
    offset,
    'Identify Namespace',
  );
  lbaf.forEach((f, i) => encodeLbaFormat(f, out, offset + ID_NS_LBAF0 + i * LBA_FORMAT_SIZE));
  return out;
}

export function decodeIdentifyNamespace(buf: Buffer, offset = 0): IdentifyNamespace {
  const ns = decodeLayout(
    LAYOUT,
    IDENTIFY_NAMESPACE_SIZE,
    buf,
    offset,
    'Identify Namespace',
  ) as unknown as IdentifyNamespace;
  const count = Math.min(ns.nlbaf + 1, MAX_LBA_FORMATS);
  ns.lbaf = [];
  for (let i = 0; i < count; i++) {
    ns.lbaf.push(decodeLbaFormat(buf, offset + ID_NS_LBAF0 + i * LBA_FORMAT_SIZE));
  }
  return ns;
}

export function encodeLbaFormat(f: LbaFormat, out: Buffer, offset: number): void {
  out.writeUInt16LE(f.ms, offset + LBAF_MS);
  out.writeUInt8(f.lbads, offset + LBAF_LBADS);
  if (!Number.isInteger(f.rp) || f.rp < 0 || f.rp > 3) {
    throw new RangeError(`LBA format RP ${f.rp} is not 0..3`);
  }
  out[offset + LBAF_RP] = f.rp;
}

export const decodeLbaFormat = (buf: Buffer, offset: number): LbaFormat => ({
  ms: buf.readUInt16LE(offset + LBAF_MS),
  lbads: buf[offset + LBAF_LBADS],
  rp: buf[offset + LBAF_RP] & 0x3,
});

/** The LBA format index FLBAS selects: bits 3:0, plus bits 6:5 as bits 5:4 (NVM CS 1.0). */
export const flbasIndex = (flbas: number): number => (flbas & 0xf) | (((flbas >>> 5) & 0x3) << 4);

/** FLBAS for a format index (and the extended-metadata bit). */
export const encodeFlbas = (index: number, extendedMetadata = false): number =>
  (index & 0xf) | (((index >>> 4) & 0x3) << 5) | (extendedMetadata ? FLBAS_EXTENDED_METADATA : 0);

/** The formatted block size in bytes, or undefined when FLBAS selects a format that is absent. */
export function formattedBlockSize(
  ns: Pick<IdentifyNamespace, 'flbas' | 'lbaf'>,
): number | undefined {
  const f = ns.lbaf[flbasIndex(ns.flbas)];
  return f && f.lbads >= 9 && f.lbads < 32 ? 2 ** f.lbads : undefined;
}
