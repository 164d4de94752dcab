/**
 * Discovery client (NVMe-oF 1.1, 5 "Discovery Service"): connect to the well-known discovery NQN,
 * read the Discovery Log Page (LID 70h), disconnect. The page is read as nvme-cli reads it: the
 * header first for NUMREC and GENCTR, then the whole page, then the header again; a changed
 * GENCTR means the log changed while it was being read and the read starts over.
 */
import type { Logger } from 'pino';
import { DISCOVERY_NQN } from '../nvme/nqn.js';
import { NvmeStatusError, StatusCodeType, GenericStatus } from '../nvme/status.js';
import { HostController } from './host-controller.js';
import {
  type DiscoveryLogEntry,
  DISCOVERY_LOG_PAGE,
  DISCOVERY_LOG_HEADER_SIZE,
  DISCOVERY_LOG_ENTRY_SIZE,
  decodeDiscoveryHeader,
  decodeDiscoveryEntry,
  getLogPageCommand,
} from './commands.js';
import { NVME_TCP_DISCOVERY_PORT } from './transport-id.js';

export type { DiscoveryLogEntry };

export interface DiscoveryLog {
  genctr: bigint;
  entries: DiscoveryLogEntry[];
}

export interface DiscoverOptions {
  traddr: string;
  /** Default 8009, the NVMe/TCP discovery port. */
  trsvcid?: string | number;
  hostnqn?: string;
  hdgst?: boolean;
  ddgst?: boolean;
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  logger?: Logger;
}

/** Attempts before giving up on a log that keeps changing under the reader (nvme-cli uses 10). */
const MAX_GENCTR_RETRIES = 10;

/** Reads `length` bytes of the discovery log from `offset`, MDTS at a time. */
async function readLog(ctrl: HostController, offset: number, length: number): Promise<Buffer> {
  const per = Math.max(
    DISCOVERY_LOG_ENTRY_SIZE,
    Math.floor(Math.min(ctrl.maxTransferBytes, 1 << 20) / DISCOVERY_LOG_ENTRY_SIZE) *
      DISCOVERY_LOG_ENTRY_SIZE,
  );
  const parts: Buffer[] = [];
  for (let off = offset; off < offset + length; off += per) {
    const n = Math.min(per, offset + length - off);
    const { data } = await ctrl.adminCommand(
      getLogPageCommand({ lid: DISCOVERY_LOG_PAGE, nsid: 0, offset: off, length: n }),
      { readLength: n },
      `Get Log Page 0x70 (discovery) offset ${off} length ${n}`,
    );
    if (!data || data.length !== n) {
      throw new RangeError(`discovery log read returned ${data?.length ?? 0} bytes, expected ${n}`);
    }
    parts.push(data);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
}

/** Reads the whole discovery log from a connected discovery controller. */
export async function readDiscoveryLog(ctrl: HostController): Promise<DiscoveryLog> {
  for (let attempt = 0; attempt < MAX_GENCTR_RETRIES; attempt++) {
    const header = decodeDiscoveryHeader(await readLog(ctrl, 0, DISCOVERY_LOG_HEADER_SIZE));
    const entries: DiscoveryLogEntry[] = [];
    if (header.numrec > 0) {
      const raw = await readLog(
        ctrl,
        DISCOVERY_LOG_HEADER_SIZE,
        header.numrec * DISCOVERY_LOG_ENTRY_SIZE,
      );
      for (let i = 0; i < header.numrec; i++) {
        entries.push(decodeDiscoveryEntry(raw, i * DISCOVERY_LOG_ENTRY_SIZE));
      }
    }
    const again = decodeDiscoveryHeader(await readLog(ctrl, 0, DISCOVERY_LOG_HEADER_SIZE));
    if (again.genctr === header.genctr && again.numrec === header.numrec) {
      return { genctr: header.genctr, entries };
    }
  }
  throw new NvmeStatusError(
    StatusCodeType.Generic,
    GenericStatus.CommandInterrupted,
    `the discovery log changed during ${MAX_GENCTR_RETRIES} reads in a row`,
    false,
  );
}

/** Connects to the discovery controller at traddr:trsvcid, reads its log, disconnects. */
export async function discoverLog(opts: DiscoverOptions): Promise<DiscoveryLog> {
  const ctrl = await HostController.connect({
    traddr: opts.traddr,
    trsvcid: opts.trsvcid ?? NVME_TCP_DISCOVERY_PORT,
    subnqn: DISCOVERY_NQN,
    hostnqn: opts.hostnqn,
    hdgst: opts.hdgst,
    ddgst: opts.ddgst,
    kato: 0,
    nrIoQueues: 0,
    commandTimeoutMs: opts.commandTimeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    ctrlLossTimeoutMs: 0,
    logger: opts.logger,
  });
  try {
    return await readDiscoveryLog(ctrl);
  } finally {
    await ctrl.close();
  }
}

/** The decoded discovery log entries at traddr:trsvcid. */
export async function discover(opts: DiscoverOptions): Promise<DiscoveryLogEntry[]> {
  return (await discoverLog(opts)).entries;
}
