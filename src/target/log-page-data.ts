/**
 * The log pages a controller serves (NVMe Base 2.0, 5.16.1; NVMe-oF 1.1, 5.3), built whole and
 * then cut to the host's window [LPO, LPO + (NUMD+1)*4). Reading past a page's end returns
 * zeroes; an offset beyond the end is Invalid Field (Base 2.0, 5.16 "Log Page Offset").
 */
import {
  type DiscoveryLogEntry,
  LogPageId,
  ERROR_LOG_ENTRY_SIZE,
  SMART_LOG_SIZE,
  KELVIN_0C,
  encodeErrorLogEntry,
  encodeSmartHealthLog,
  encodeChangedNsList,
  encodeDiscoveryLog,
  dataUnits,
  allocationMapSize,
  ALLOCATION_MAP_BITS_PER_BYTE,
} from '../nvme/log-pages.js';
import { NSID_ALL } from '../nvme/opcodes.js';
import type { Controller } from './controller.js';
import { invalidField, invalidLogPage, invalidNamespace } from './to-nvme-status.js';
import { ERROR_LOG_ENTRIES } from './controller-limits.js';

/** What the discovery log of a host lists, and its generation counter. */
export interface DiscoverySource {
  readonly discoveryGenctr: bigint;
  discoveryEntries(hostnqn: string): Partial<DiscoveryLogEntry>[];
  /** When the target started (ms since the epoch), for SMART Power On Hours. */
  readonly startedAt: number;
}

/** SMART values of an emulated device: room temperature, all spare left, nothing worn. */
const SMART_TEMPERATURE = KELVIN_0C + 25;
const SMART_AVAILABLE_SPARE = 100;
const SMART_SPARE_THRESHOLD = 10;
const MS_PER_HOUR = 3_600_000;

export interface LogPageRequest {
  lid: number;
  nsid: number;
  offset: number;
  length: number;
  rae: boolean;
}

/** Cuts [offset, offset+length) out of a whole page, zero padded past its end. */
export function logWindow(page: Buffer, offset: number, length: number): Buffer {
  if (offset > page.length) {
    throw invalidField(`log page offset ${offset} is beyond the ${page.length}-byte page`);
  }
  if (offset + length <= page.length) return page.subarray(offset, offset + length);
  const out = Buffer.alloc(length);
  page.copy(out, 0, offset);
  return out;
}

/** The requested window of log page `req.lid` for `ctrl`. */
export async function readLogPage(
  ctrl: Controller,
  source: DiscoverySource,
  req: LogPageRequest,
): Promise<Buffer> {
  const supported = ctrl.isDiscovery
    ? req.lid === LogPageId.Discovery
    : req.lid !== LogPageId.Discovery;
  if (!supported) throw invalidLogPage(`log page 0x${req.lid.toString(16)} is not served here`);
  let page: Buffer;
  switch (req.lid) {
    case LogPageId.Error:
      page = errorLogPage(ctrl);
      break;
    case LogPageId.SmartHealth:
      page = smartLogPage(ctrl, source, req.nsid);
      break;
    case LogPageId.ChangedNamespaceList:
      page = encodeChangedNsList(ctrl.takeChangedNamespaces(!req.rae));
      break;
    case LogPageId.Discovery:
      page = encodeDiscoveryLog(source.discoveryGenctr, source.discoveryEntries(ctrl.hostnqn));
      break;
    case LogPageId.AllocationMap:
      return allocationMapWindow(ctrl, req);
    default:
      throw invalidLogPage(`log page 0x${req.lid.toString(16)} is not supported`);
  }
  const window = logWindow(page, req.offset, req.length);
  ctrl.logPageRead(req.lid, req.rae);
  return window;
}

function errorLogPage(ctrl: Controller): Buffer {
  const page = Buffer.alloc(ERROR_LOG_ENTRIES * ERROR_LOG_ENTRY_SIZE);
  ctrl.errorLog.forEach((e, i) => encodeErrorLogEntry(e, page, i * ERROR_LOG_ENTRY_SIZE));
  return page;
}

/**
 * SMART / Health for the whole controller (NSID 0 or FFFFFFFFh; LPA bit 0 is clear, so a
 * namespace's own page is Invalid Field), summed over the subsystem's namespaces' bdev counters.
 */
function smartLogPage(ctrl: Controller, source: DiscoverySource, nsid: number): Buffer {
  if (nsid !== 0 && nsid !== NSID_ALL) {
    throw invalidField(`SMART / Health log for namespace ${nsid}: only the controller's is kept`);
  }
  let readBytes = 0;
  let writeBytes = 0;
  let reads = 0;
  let writes = 0;
  let mediaErrors = 0;
  for (const ns of ctrl.subsystem.namespaces) {
    const s = ns.bdev.stats;
    readBytes += s.readBytes;
    writeBytes += s.writeBytes;
    reads += s.readOps;
    writes += s.writeOps;
    mediaErrors += s.errors;
  }
  const page = Buffer.alloc(SMART_LOG_SIZE);
  return encodeSmartHealthLog(
    {
      compositeTemperature: SMART_TEMPERATURE,
      availableSpare: SMART_AVAILABLE_SPARE,
      availableSpareThreshold: SMART_SPARE_THRESHOLD,
      dataUnitsRead: dataUnits(readBytes),
      dataUnitsWritten: dataUnits(writeBytes),
      hostReadCommands: BigInt(reads),
      hostWriteCommands: BigInt(writes),
      powerCycles: 1n,
      powerOnHours: BigInt(Math.floor((Date.now() - source.startedAt) / MS_PER_HOUR)),
      mediaErrors: BigInt(mediaErrors),
      errorLogEntries: BigInt(ctrl.errorsRecorded),
    },
    page,
  );
}

/**
 * Vendor log C0h: bit i of byte j is LBA j*8 + i, 1 = allocated. Built only for the window asked,
 * from the bdev's blockStatus; a bdev that cannot tell has no such page (Invalid Log Page), which
 * is how a host learns to treat every block as data.
 */
async function allocationMapWindow(ctrl: Controller, req: LogPageRequest): Promise<Buffer> {
  const ns = ctrl.subsystem.namespace(req.nsid);
  if (!ns) throw invalidNamespace(`allocation map of namespace ${req.nsid}, which is not active`);
  const bdev = ns.bdev;
  if (!bdev.blockStatus) {
    throw invalidLogPage(`namespace ${req.nsid}'s bdev cannot report its allocation`);
  }
  const size = allocationMapSize(bdev.blockCount);
  if (req.offset > size) {
    throw invalidField(`allocation map offset ${req.offset} is beyond its ${size} bytes`);
  }
  const out = Buffer.alloc(req.length);
  const first = req.offset * ALLOCATION_MAP_BITS_PER_BYTE;
  const end = Math.min(bdev.blockCount, (req.offset + req.length) * ALLOCATION_MAP_BITS_PER_BYTE);
  if (end > first) {
    let bit = 0;
    for (const extent of await bdev.blockStatus(first, end - first)) {
      if (extent.state !== 'hole') setBits(out, bit, extent.blocks);
      bit += extent.blocks;
    }
  }
  ctrl.logPageRead(req.lid, req.rae);
  return out;
}

/** Sets bits [start, start+count) of `buf`, whole bytes at a time where it can. */
function setBits(buf: Buffer, start: number, count: number): void {
  const end = start + count;
  const setBit = (i: number) => {
    buf[i >>> 3] |= 1 << (i & 7);
  };
  let i = start;
  for (; i < end && i % ALLOCATION_MAP_BITS_PER_BYTE !== 0; i++) setBit(i);
  const wholeEnd = end - (end % ALLOCATION_MAP_BITS_PER_BYTE);
  if (wholeEnd > i) {
    buf.fill(0xff, i / ALLOCATION_MAP_BITS_PER_BYTE, wholeEnd / ALLOCATION_MAP_BITS_PER_BYTE);
    i = wholeEnd;
  }
  for (; i < end; i++) setBit(i);
}
