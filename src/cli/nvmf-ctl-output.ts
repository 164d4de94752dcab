/**
 * nvmf-ctl output in nvme-cli's two formats: `normal` (the `name : value` text nvme-cli prints)
 * and `json` (nvme-cli's JSON field names: discovery `genctr`/`records[]` with trtype, adrfam,
 * subtype, treq, portid, trsvcid, subnqn, traddr, sectype; Identify fields in lower case).
 */
import type { DiscoveryLog, DiscoveryLogEntry } from '../initiator/discovery.js';
import type { NamespaceInfo } from '../initiator/association.js';
import type { ControllerIdentity } from '../initiator/commands.js';

export type OutputFormat = 'normal' | 'json';

const TRTYPE: Record<number, string> = { 1: 'rdma', 2: 'fc', 3: 'tcp', 254: 'loop' };
const ADRFAM: Record<number, string> = {
  1: 'ipv4',
  2: 'ipv6',
  3: 'infiniband',
  4: 'fibre-channel',
  254: 'loop',
};
/** Discovery log entry SUBTYPE (NVMe-oF 1.1, Figure 38). */
const SUBTYPE_REFERRAL = 1;
const SUBTYPE_NVME = 2;
const SUBTYPE_CURRENT_DISCOVERY = 3;
const SUBTYPE: Record<number, string> = {
  [SUBTYPE_REFERRAL]: 'discovery subsystem referral',
  [SUBTYPE_NVME]: 'nvme subsystem',
  [SUBTYPE_CURRENT_DISCOVERY]: 'current discovery subsystem',
};
const TREQ_SECURE_CHANNEL: Record<number, string> = {
  0: 'not specified',
  1: 'required',
  2: 'not required',
};
const TREQ_DISABLE_SQFLOW = 1 << 2;
const SECTYPE: Record<number, string> = { 0: 'none', 1: 'tls1.2', 2: 'tls1.3' };

const named = (table: Record<number, string>, v: number) => table[v] ?? `unrecognized (${v})`;

export const isNvmeSubsystemEntry = (e: DiscoveryLogEntry): boolean => e.subtype === SUBTYPE_NVME;

function treqText(treq: number): string {
  const base = named(TREQ_SECURE_CHANNEL, treq & 0x3);
  return treq & TREQ_DISABLE_SQFLOW ? `${base}, sq flow control disable supported` : base;
}

/** TSAS for TCP: byte 0 is SECTYPE (NVMe/TCP 1.0, 3.x / TP 8011). */
const sectypeOf = (e: DiscoveryLogEntry): number => (e.tsas ? e.tsas[0] : 0);

function discoveryRecord(e: DiscoveryLogEntry) {
  return {
    trtype: named(TRTYPE, e.trtype),
    adrfam: named(ADRFAM, e.adrfam),
    subtype: named(SUBTYPE, e.subtype),
    treq: treqText(e.treq),
    portid: e.portid,
    trsvcid: e.trsvcid,
    subnqn: e.subnqn,
    traddr: e.traddr,
    sectype: named(SECTYPE, sectypeOf(e)),
  };
}

/** JSON.stringify that writes bigint as a number when exact, else as a decimal string. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === 'bigint')
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v);
      if (v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data)) {
        return Buffer.from(v.data as number[]).toString('hex');
      }
      return v;
    },
    2,
  );
}

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

export function printDiscovery(log: DiscoveryLog, format: OutputFormat): void {
  const records = log.entries.map(discoveryRecord);
  if (format === 'json') {
    out(toJson({ genctr: log.genctr, records }));
    return;
  }
  const lines = [
    `Discovery Log Number of Records ${records.length}, Generation counter ${log.genctr}`,
  ];
  records.forEach((r, i) => {
    lines.push(`=====Discovery Log Entry ${i}======`);
    for (const [k, v] of Object.entries(r)) lines.push(`${`${k}:`.padEnd(9)}${v}`);
  });
  out(lines.join('\n'));
}

/** Identify fields nvme-cli prints in hex in its normal output. */
const HEX_FIELDS = new Set([
  'vid',
  'ssvid',
  'cmic',
  'cntlid',
  'ver',
  'oaes',
  'ctratt',
  'oacs',
  'frmw',
  'lpa',
  'apsta',
  'sqes',
  'cqes',
  'oncs',
  'fuses',
  'fna',
  'vwc',
  'sgls',
  'fcatt',
  'ofcs',
  'nsze',
  'ncap',
  'nuse',
  'nsfeat',
  'flbas',
  'mc',
  'dpc',
  'dps',
  'nmic',
  'rescap',
  'dlfeat',
  'ieee',
]);

function normalValue(key: string, v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (typeof v === 'number' && HEX_FIELDS.has(key)) return `0x${v.toString(16)}`;
  return String(v);
}

function printFields(title: string, fields: Record<string, unknown>, format: OutputFormat) {
  if (format === 'json') {
    out(toJson(fields));
    return;
  }
  const lines = [title];
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'lbafs') continue;
    lines.push(`${k.padEnd(10)}: ${normalValue(k, v)}`);
  }
  out(lines.join('\n'));
}

export function printIdCtrl(id: ControllerIdentity, format: OutputFormat): void {
  printFields('NVME Identify Controller:', { ...id }, format);
}

export function printIdNs(info: NamespaceInfo, format: OutputFormat): void {
  const { lbaf, blockSize: _bs, ...rest } = info.identify;
  const lbafs = lbaf.map((f) => ({ ms: f.ms, ds: f.lbads, rp: f.rp }));
  const inUse = lbaf.findIndex((f) => 2 ** f.lbads === info.blockSize);
  if (format === 'json') {
    out(toJson({ ...rest, lbafs }));
    return;
  }
  printFields(`NVME Identify Namespace ${info.nsid}:`, rest, format);
  out(
    lbafs
      .map(
        (f, i) =>
          `lbaf ${String(i).padStart(2)} : ms:${String(f.ms).padEnd(3)} lbads:${String(f.ds).padEnd(2)} rp:${f.rp}${i === inUse ? ' (in use)' : ''}`,
      )
      .join('\n'),
  );
}

export interface ListedSubsystem {
  subnqn: string;
  traddr: string;
  trsvcid: string;
  cntlid: number;
  identify: ControllerIdentity;
  namespaces: NamespaceInfo[];
}

export function printList(subsystems: ListedSubsystem[], format: OutputFormat): void {
  const rows = subsystems.map((s) => ({
    SubsystemNQN: s.subnqn,
    Controllers: [
      {
        Controller: s.cntlid,
        Transport: 'tcp',
        Address: `traddr=${s.traddr},trsvcid=${s.trsvcid}`,
        SerialNumber: s.identify.sn,
        ModelNumber: s.identify.mn,
        Firmware: s.identify.fr,
        Namespaces: s.namespaces.map((ns) => ({
          NSID: ns.nsid,
          UsedBytes: ns.identify.nuse * ns.blockSize,
          MaximumLBA: ns.blockCount,
          PhysicalSize: ns.blockCount * ns.blockSize,
          SectorSize: ns.blockSize,
        })),
      },
    ],
  }));
  if (format === 'json') {
    out(toJson({ Subsystems: rows }));
    return;
  }
  const lines = [
    `${'Subsystem / Namespace'.padEnd(60)} ${'Ctrl'.padEnd(5)} ${'Size'.padStart(14)} ${'Format'.padEnd(8)} Address`,
  ];
  for (const s of subsystems) {
    const where = `${s.traddr}:${s.trsvcid}`;
    lines.push(
      `${s.subnqn.padEnd(60)} ${String(s.cntlid).padEnd(5)} ${''.padStart(14)} ${''.padEnd(8)} ${where}`,
    );
    for (const ns of s.namespaces) {
      const size = ns.blockCount * ns.blockSize;
      lines.push(
        `${`  nsid ${ns.nsid}`.padEnd(60)} ${''.padEnd(5)} ${humanSize(size).padStart(14)} ${`${ns.blockSize} B`.padEnd(8)} ${where}`,
      );
    }
  }
  out(lines.join('\n'));
}

function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v % 1 === 0 ? 0 : 2)} ${units[u]}`;
}
