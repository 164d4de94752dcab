/**
 * Identify Controller data structure, CNS 01h: 4096 bytes (NVMe Base 2.0, 5.17.2.1, Figure 275),
 * with the NVMe over Fabrics fields at 1792 (NVMe-oF 1.1, 4.1, Figure 28).
 */
import { type FieldSpec, decodeLayout, encodeLayout } from './codec.js';

export const IDENTIFY_CONTROLLER_SIZE = 4096;

// Controller capabilities and features
export const ID_CTRL_VID = 0; // u16 PCI Vendor ID
export const ID_CTRL_SSVID = 2; // u16 PCI Subsystem Vendor ID
export const ID_CTRL_SN = 4; // 20 B Serial Number, ASCII space padded
export const ID_CTRL_MN = 24; // 40 B Model Number, ASCII space padded
export const ID_CTRL_FR = 64; // 8 B Firmware Revision, ASCII space padded
export const ID_CTRL_RAB = 72; // u8 Recommended Arbitration Burst
export const ID_CTRL_IEEE = 73; // u24 IEEE OUI
export const ID_CTRL_CMIC = 76; // u8 Controller Multi-Path I/O and Namespace Sharing Capabilities
export const ID_CTRL_MDTS = 77; // u8 Maximum Data Transfer Size, 2^n units of CAP.MPSMIN, 0 = none
export const ID_CTRL_CNTLID = 78; // u16 Controller ID
export const ID_CTRL_VER = 80; // u32 Version (same layout as VS)
export const ID_CTRL_RTD3R = 84; // u32 RTD3 Resume Latency, µs
export const ID_CTRL_RTD3E = 88; // u32 RTD3 Entry Latency, µs
export const ID_CTRL_OAES = 92; // u32 Optional Asynchronous Events Supported
export const ID_CTRL_CTRATT = 96; // u32 Controller Attributes
export const ID_CTRL_RRLS = 100; // u16 Read Recovery Levels Supported
export const ID_CTRL_CNTRLTYPE = 111; // u8 Controller Type
export const ID_CTRL_FGUID = 112; // 16 B FRU Globally Unique Identifier
export const ID_CTRL_CRDT1 = 128; // u16 Command Retry Delay Time 1, 100 ms units
export const ID_CTRL_CRDT2 = 130; // u16
export const ID_CTRL_CRDT3 = 132; // u16
// Admin command set attributes and optional controller capabilities
export const ID_CTRL_OACS = 256; // u16 Optional Admin Command Support
export const ID_CTRL_ACL = 258; // u8 Abort Command Limit, 0-based
export const ID_CTRL_AERL = 259; // u8 Asynchronous Event Request Limit, 0-based
export const ID_CTRL_FRMW = 260; // u8 Firmware Updates
export const ID_CTRL_LPA = 261; // u8 Log Page Attributes
export const ID_CTRL_ELPE = 262; // u8 Error Log Page Entries, 0-based
export const ID_CTRL_NPSS = 263; // u8 Number of Power States Support, 0-based
export const ID_CTRL_AVSCC = 264; // u8 Admin Vendor Specific Command Configuration
export const ID_CTRL_APSTA = 265; // u8 Autonomous Power State Transition Attributes
export const ID_CTRL_WCTEMP = 266; // u16 Warning Composite Temperature Threshold, K
export const ID_CTRL_CCTEMP = 268; // u16 Critical Composite Temperature Threshold, K
export const ID_CTRL_MTFA = 270; // u16 Maximum Time for Firmware Activation
export const ID_CTRL_HMPRE = 272; // u32 Host Memory Buffer Preferred Size
export const ID_CTRL_HMMIN = 276; // u32 Host Memory Buffer Minimum Size
export const ID_CTRL_TNVMCAP = 280; // u128 Total NVM Capacity, bytes
export const ID_CTRL_UNVMCAP = 296; // u128 Unallocated NVM Capacity, bytes
export const ID_CTRL_RPMBS = 312; // u32 Replay Protected Memory Block Support
export const ID_CTRL_EDSTT = 316; // u16 Extended Device Self-test Time
export const ID_CTRL_DSTO = 318; // u8 Device Self-test Options
export const ID_CTRL_FWUG = 319; // u8 Firmware Update Granularity
export const ID_CTRL_KAS = 320; // u16 Keep Alive Support, granularity in 100 ms units
export const ID_CTRL_HCTMA = 322; // u16 Host Controlled Thermal Management Attributes
export const ID_CTRL_MNTMT = 324; // u16
export const ID_CTRL_MXTMT = 326; // u16
export const ID_CTRL_SANICAP = 328; // u32 Sanitize Capabilities
export const ID_CTRL_HMMINDS = 332; // u32
export const ID_CTRL_HMMAXD = 336; // u16
export const ID_CTRL_NSETIDMAX = 338; // u16
export const ID_CTRL_ENDGIDMAX = 340; // u16
export const ID_CTRL_ANATT = 342; // u8 ANA Transition Time, seconds
export const ID_CTRL_ANACAP = 343; // u8 Asymmetric Namespace Access Capabilities
export const ID_CTRL_ANAGRPMAX = 344; // u32 ANA Group Identifier Maximum
export const ID_CTRL_NANAGRPID = 348; // u32 Number of ANA Group Identifiers
export const ID_CTRL_PELS = 352; // u32 Persistent Event Log Size, 64 KiB units
// NVM command set attributes
export const ID_CTRL_SQES = 512; // u8 bits 3:0 required, 7:4 maximum SQ entry size, log2
export const ID_CTRL_CQES = 513; // u8 bits 3:0 required, 7:4 maximum CQ entry size, log2
export const ID_CTRL_MAXCMD = 514; // u16 Maximum Outstanding Commands (required for Fabrics)
export const ID_CTRL_NN = 516; // u32 Number of Namespaces (maximum NSID)
export const ID_CTRL_ONCS = 520; // u16 Optional NVM Command Support
export const ID_CTRL_FUSES = 522; // u16 Fused Operation Support
export const ID_CTRL_FNA = 524; // u8 Format NVM Attributes
export const ID_CTRL_VWC = 525; // u8 Volatile Write Cache
export const ID_CTRL_AWUN = 526; // u16 Atomic Write Unit Normal, 0-based blocks
export const ID_CTRL_AWUPF = 528; // u16 Atomic Write Unit Power Fail, 0-based blocks
export const ID_CTRL_ICSVSCC = 530; // u8 I/O Command Set Vendor Specific Command Configuration
export const ID_CTRL_NWPC = 531; // u8 Namespace Write Protection Capabilities
export const ID_CTRL_ACWU = 532; // u16 Atomic Compare & Write Unit, 0-based
export const ID_CTRL_SGLS = 536; // u32 SGL Support
export const ID_CTRL_MNAN = 540; // u32 Maximum Number of Allowed Namespaces
export const ID_CTRL_SUBNQN = 768; // 256 B NVM Subsystem NQN, UTF-8 NUL padded
export const SUBNQN_SIZE = 256;
// NVMe over Fabrics attributes (NVMe-oF 1.1, Figure 28)
export const ID_CTRL_IOCCSZ = 1792; // u32 I/O Queue Command Capsule Supported Size, 16 B units
export const ID_CTRL_IORCSZ = 1796; // u32 I/O Queue Response Capsule Supported Size, 16 B units
export const ID_CTRL_ICDOFF = 1800; // u16 In Capsule Data Offset, 16 B units from the SQE end
export const ID_CTRL_FCATT = 1802; // u8 Fabrics Controller Attributes
export const ID_CTRL_MSDBD = 1803; // u8 Maximum SGL Data Block Descriptors
export const ID_CTRL_OFCS = 1804; // u16 Optional Fabric Commands Support
export const ID_CTRL_PSD0 = 2048; // 32 B each, 32 Power State Descriptors
export const ID_CTRL_VS = 3072; // 1024 B vendor specific
export const POWER_STATE_DESCRIPTOR_SIZE = 32;

/** CNTRLTYPE values (Figure 275). */
export const enum ControllerType {
  NotReported = 0,
  Io = 1,
  Discovery = 2,
  Administrative = 3,
}

/** CMIC bits. */
export const CMIC_MULTI_PORT = 1 << 0;
export const CMIC_MULTI_CONTROLLER = 1 << 1;
export const CMIC_SRIOV = 1 << 2;
export const CMIC_ANA = 1 << 3;

/** OAES bits: which asynchronous event notices the controller can send. */
export const OAES_NS_ATTRIBUTE = 1 << 8;
export const OAES_FIRMWARE_ACTIVATION = 1 << 9;
export const OAES_ANA_CHANGE = 1 << 11;
export const OAES_DISCOVERY_LOG_CHANGE = 0x80000000; // bit 31, kept unsigned

/** CTRATT bits. */
export const CTRATT_HOST_ID_128 = 1 << 0; // 128-bit Host Identifier
export const CTRATT_NOPSPM = 1 << 1;
export const CTRATT_NVM_SETS = 1 << 2;
export const CTRATT_READ_RECOVERY = 1 << 3;
export const CTRATT_ENDURANCE_GROUPS = 1 << 4;
export const CTRATT_PREDICTABLE_LATENCY = 1 << 5;
export const CTRATT_TBKAS = 1 << 6; // Traffic Based Keep Alive
export const CTRATT_NS_GRANULARITY = 1 << 7;
export const CTRATT_SQ_ASSOCIATIONS = 1 << 8;
export const CTRATT_UUID_LIST = 1 << 9;

/** OACS bits. */
export const OACS_SECURITY = 1 << 0;
export const OACS_FORMAT = 1 << 1;
export const OACS_FIRMWARE = 1 << 2;
export const OACS_NS_MANAGEMENT = 1 << 3;
export const OACS_SELF_TEST = 1 << 4;
export const OACS_DIRECTIVES = 1 << 5;
export const OACS_NVME_MI = 1 << 6;
export const OACS_VIRTUALIZATION = 1 << 7;
export const OACS_DOORBELL_BUFFER = 1 << 8;
export const OACS_GET_LBA_STATUS = 1 << 9;

/** FRMW bits: bit 0 slot 1 read only; bits 3:1 number of slots; bit 4 activation without reset. */
export const FRMW_SLOT1_READ_ONLY = 1 << 0;
export const FRMW_SLOTS_SHIFT = 1;
export const FRMW_ACTIVATION_WITHOUT_RESET = 1 << 4;

/** LPA bits. */
export const LPA_SMART_PER_NAMESPACE = 1 << 0;
export const LPA_COMMANDS_EFFECTS = 1 << 1;
export const LPA_EXTENDED_DATA = 1 << 2; // NUMDU, LPOL/LPOU supported
export const LPA_TELEMETRY = 1 << 3;
export const LPA_PERSISTENT_EVENT = 1 << 4;

/** ONCS bits. */
export const ONCS_COMPARE = 1 << 0;
export const ONCS_WRITE_UNCORRECTABLE = 1 << 1;
export const ONCS_DSM = 1 << 2;
export const ONCS_WRITE_ZEROES = 1 << 3;
export const ONCS_SAVE_FEATURES = 1 << 4;
export const ONCS_RESERVATIONS = 1 << 5;
export const ONCS_TIMESTAMP = 1 << 6;
export const ONCS_VERIFY = 1 << 7;
export const ONCS_COPY = 1 << 8;

/** FUSES bit 0: Compare and Write fused operation. */
export const FUSES_COMPARE_AND_WRITE = 1 << 0;

/** FNA bits. */
export const FNA_FORMAT_ALL_NAMESPACES = 1 << 0;
export const FNA_ERASE_ALL_NAMESPACES = 1 << 1;
export const FNA_CRYPTO_ERASE = 1 << 2;

/** VWC: bit 0 a volatile write cache is present; bits 2:1 = 11b Flush with NSID FFFFFFFFh works. */
export const VWC_PRESENT = 1 << 0;
export const VWC_FLUSH_BROADCAST = 0b11 << 1;

/** SGLS bits 1:0: 01b SGLs supported (byte aligned), 10b supported with dword alignment. */
export const SGLS_SUPPORTED = 0b01;
export const SGLS_SUPPORTED_DWORD_ALIGNED = 0b10;
export const SGLS_KEYED_DATA_BLOCK = 1 << 2;
export const SGLS_BIT_BUCKET = 1 << 16;
export const SGLS_BYTE_ALIGNED_METADATA = 1 << 17;
export const SGLS_OVERSIZED = 1 << 18; // SGL length may exceed the data length
export const SGLS_MPTR_SGL = 1 << 19;
export const SGLS_OFFSET = 1 << 20; // Address field of a Data Block may be an offset
export const SGLS_TRANSPORT_DATA_BLOCK = 1 << 21;

/** SQES/CQES as NVMe-oF requires them: required = maximum = 64 B SQE, 16 B CQE. */
export const SQES_64 = 0x66;
export const CQES_16 = 0x44;

/** FCATT bit 0: 0 = dynamic controller model, 1 = static. */
export const FCATT_STATIC_MODEL = 1 << 0;
/** OFCS bit 0: Disconnect command supported. */
export const OFCS_DISCONNECT = 1 << 0;

export interface IdentifyController {
  vid: number;
  ssvid: number;
  sn: string;
  mn: string;
  fr: string;
  rab: number;
  /** 24-bit IEEE OUI, as the numeric value of the three little-endian bytes. */
  ieee: number;
  cmic: number;
  mdts: number;
  cntlid: number;
  ver: number;
  rtd3r: number;
  rtd3e: number;
  oaes: number;
  ctratt: number;
  rrls: number;
  cntrltype: number;
  fguid: Buffer;
  crdt1: number;
  crdt2: number;
  crdt3: number;
  oacs: number;
  acl: number;
  aerl: number;
  frmw: number;
  lpa: number;
  elpe: number;
  npss: number;
  avscc: number;
  apsta: number;
  wctemp: number;
  cctemp: number;
  mtfa: number;
  hmpre: number;
  hmmin: number;
  tnvmcap: bigint;
  unvmcap: bigint;
  rpmbs: number;
  edstt: number;
  dsto: number;
  fwug: number;
  kas: number;
  hctma: number;
  mntmt: number;
  mxtmt: number;
  sanicap: number;
  hmminds: number;
  hmmaxd: number;
  nsetidmax: number;
  endgidmax: number;
  anatt: number;
  anacap: number;
  anagrpmax: number;
  nanagrpid: number;
  pels: number;
  sqes: number;
  cqes: number;
  maxcmd: number;
  nn: number;
  oncs: number;
  fuses: number;
  fna: number;
  vwc: number;
  awun: number;
  awupf: number;
  icsvscc: number;
  nwpc: number;
  acwu: number;
  sgls: number;
  mnan: number;
  subnqn: string;
  ioccsz: number;
  iorcsz: number;
  icdoff: number;
  fcatt: number;
  msdbd: number;
  ofcs: number;
  /** Power State Descriptor 0 (32 bytes); zero when not given. */
  psd0: Buffer;
}

type K = keyof IdentifyController;
const u8 = (key: K, offset: number): FieldSpec<K> => ({ key, offset, kind: 'u8' });
const u16 = (key: K, offset: number): FieldSpec<K> => ({ key, offset, kind: 'u16' });
const u32 = (key: K, offset: number): FieldSpec<K> => ({ key, offset, kind: 'u32' });

const LAYOUT: readonly FieldSpec<K>[] = [
  u16('vid', ID_CTRL_VID),
  u16('ssvid', ID_CTRL_SSVID),
  { key: 'sn', offset: ID_CTRL_SN, kind: 'ascii', size: 20 },
  { key: 'mn', offset: ID_CTRL_MN, kind: 'ascii', size: 40 },
  { key: 'fr', offset: ID_CTRL_FR, kind: 'ascii', size: 8 },
  u8('rab', ID_CTRL_RAB),
  { key: 'ieee', offset: ID_CTRL_IEEE, kind: 'u24' },
  u8('cmic', ID_CTRL_CMIC),
  u8('mdts', ID_CTRL_MDTS),
  u16('cntlid', ID_CTRL_CNTLID),
  u32('ver', ID_CTRL_VER),
  u32('rtd3r', ID_CTRL_RTD3R),
  u32('rtd3e', ID_CTRL_RTD3E),
  u32('oaes', ID_CTRL_OAES),
  u32('ctratt', ID_CTRL_CTRATT),
  u16('rrls', ID_CTRL_RRLS),
  u8('cntrltype', ID_CTRL_CNTRLTYPE),
  { key: 'fguid', offset: ID_CTRL_FGUID, kind: 'bytes', size: 16 },
  u16('crdt1', ID_CTRL_CRDT1),
  u16('crdt2', ID_CTRL_CRDT2),
  u16('crdt3', ID_CTRL_CRDT3),
  u16('oacs', ID_CTRL_OACS),
  u8('acl', ID_CTRL_ACL),
  u8('aerl', ID_CTRL_AERL),
  u8('frmw', ID_CTRL_FRMW),
  u8('lpa', ID_CTRL_LPA),
  u8('elpe', ID_CTRL_ELPE),
  u8('npss', ID_CTRL_NPSS),
  u8('avscc', ID_CTRL_AVSCC),
  u8('apsta', ID_CTRL_APSTA),
  u16('wctemp', ID_CTRL_WCTEMP),
  u16('cctemp', ID_CTRL_CCTEMP),
  u16('mtfa', ID_CTRL_MTFA),
  u32('hmpre', ID_CTRL_HMPRE),
  u32('hmmin', ID_CTRL_HMMIN),
  { key: 'tnvmcap', offset: ID_CTRL_TNVMCAP, kind: 'u128' },
  { key: 'unvmcap', offset: ID_CTRL_UNVMCAP, kind: 'u128' },
  u32('rpmbs', ID_CTRL_RPMBS),
  u16('edstt', ID_CTRL_EDSTT),
  u8('dsto', ID_CTRL_DSTO),
  u8('fwug', ID_CTRL_FWUG),
  u16('kas', ID_CTRL_KAS),
  u16('hctma', ID_CTRL_HCTMA),
  u16('mntmt', ID_CTRL_MNTMT),
  u16('mxtmt', ID_CTRL_MXTMT),
  u32('sanicap', ID_CTRL_SANICAP),
  u32('hmminds', ID_CTRL_HMMINDS),
  u16('hmmaxd', ID_CTRL_HMMAXD),
  u16('nsetidmax', ID_CTRL_NSETIDMAX),
  u16('endgidmax', ID_CTRL_ENDGIDMAX),
  u8('anatt', ID_CTRL_ANATT),
  u8('anacap', ID_CTRL_ANACAP),
  u32('anagrpmax', ID_CTRL_ANAGRPMAX),
  u32('nanagrpid', ID_CTRL_NANAGRPID),
  u32('pels', ID_CTRL_PELS),
  u8('sqes', ID_CTRL_SQES),
  u8('cqes', ID_CTRL_CQES),
  u16('maxcmd', ID_CTRL_MAXCMD),
  u32('nn', ID_CTRL_NN),
  u16('oncs', ID_CTRL_ONCS),
  u16('fuses', ID_CTRL_FUSES),
  u8('fna', ID_CTRL_FNA),
  u8('vwc', ID_CTRL_VWC),
  u16('awun', ID_CTRL_AWUN),
  u16('awupf', ID_CTRL_AWUPF),
  u8('icsvscc', ID_CTRL_ICSVSCC),
  u8('nwpc', ID_CTRL_NWPC),
  u16('acwu', ID_CTRL_ACWU),
  u32('sgls', ID_CTRL_SGLS),
  u32('mnan', ID_CTRL_MNAN),
  { key: 'subnqn', offset: ID_CTRL_SUBNQN, kind: 'string', size: SUBNQN_SIZE },
  u32('ioccsz', ID_CTRL_IOCCSZ),
  u32('iorcsz', ID_CTRL_IORCSZ),
  u16('icdoff', ID_CTRL_ICDOFF),
  u8('fcatt', ID_CTRL_FCATT),
  u8('msdbd', ID_CTRL_MSDBD),
  u16('ofcs', ID_CTRL_OFCS),
  { key: 'psd0', offset: ID_CTRL_PSD0, kind: 'bytes', size: POWER_STATE_DESCRIPTOR_SIZE },
];

/**
 * Encodes Identify Controller data; missing fields are zero (strings empty, i.e. all spaces for
 * SN/MN/FR). RangeError when a value does not fit its field.
 */
export function encodeIdentifyController(
  fields: Partial<IdentifyController>,
  out: Buffer = Buffer.alloc(IDENTIFY_CONTROLLER_SIZE),
  offset = 0,
): Buffer {
  return encodeLayout(LAYOUT, IDENTIFY_CONTROLLER_SIZE, fields, out, offset, 'Identify Controller');
}

export function decodeIdentifyController(buf: Buffer, offset = 0): IdentifyController {
  return decodeLayout(
    LAYOUT,
    IDENTIFY_CONTROLLER_SIZE,
    buf,
    offset,
    'Identify Controller',
  ) as unknown as IdentifyController;
}

/**
 * Largest transfer in bytes allowed by MDTS (units of the minimum memory page size, 2^(12 +
 * CAP.MPSMIN)); Infinity when MDTS is 0 (no limit).
 */
export const maxDataTransferBytes = (mdts: number, mpsmin = 0): number =>
  mdts === 0 ? Infinity : 2 ** (12 + mpsmin + mdts);

/**
 * In-capsule data bytes an I/O queue accepts, from IOCCSZ (16-byte units, the 64-byte SQE
 * included; NVMe-oF 1.1, 4.1): (IOCCSZ * 16) - 64.
 */
export const inCapsuleDataBytes = (ioccsz: number): number => Math.max(0, ioccsz * 16 - 64);

/** IOCCSZ for an in-capsule data size: (64 + bytes) / 16, rounded up. */
export const ioccszFor = (inCapsuleBytes: number): number => Math.ceil((64 + inCapsuleBytes) / 16);
