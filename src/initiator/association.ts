/**
 * One association with a controller: the admin queue, the enable sequence, Identify, the I/O
 * queues and the namespace scan, in the order Linux's nvme_tcp_setup_ctrl and nvme-cli use
 * (NVMe-oF 1.1, 3.5 "Controller Initialization": Connect admin queue, Property Get CAP/VS,
 * Property Set CC.EN=1, wait CSTS.RDY, Identify, Set Features Number of Queues, Connect I/O
 * queues). A controller that reconnects builds a new association each time (a new CNTLID).
 */
import type { Logger } from 'pino';
import { HostQueue } from '../transport/tcp/host-queue.js';
import { NvmeStatusError, StatusCodeType, GenericStatus } from '../nvme/status.js';
import { QueuePair } from './queue-pair.js';
import {
  type ControllerCapabilities,
  type ControllerIdentity,
  type NamespaceIdentity,
  ADMIN_QUEUE_SIZE,
  CNTLID_DYNAMIC,
  ALLOCATION_MAP_LOG_PAGE,
  PROPERTY_VS,
  PROPERTY_CC,
  connectCommand,
  connectResult,
  propertyGet,
  propertySet,
  readCapabilities,
  readStatus,
  enableConfiguration,
  shutdownConfiguration,
  identifyController,
  identifyNamespace,
  activeNamespaces,
  setNumberOfQueues,
  probeLogPage,
  ioInCapsuleDataSize,
  maxTransferBytes,
} from './commands.js';

export interface AssociationParams {
  host: string;
  port: number;
  subnqn: string;
  hostnqn: string;
  hostid: Buffer;
  discovery: boolean;
  nrIoQueues: number;
  queueDepth: number;
  hdgst: boolean;
  ddgst: boolean;
  /** Keep Alive Timeout in ms for the admin Connect; 0 disables keep-alive. */
  kato: number;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  logger: Logger;
  /** Called once per queue fault of this association (timeout or lost connection). */
  onFault(assoc: Association, reason: string): void;
}

export interface NamespaceInfo {
  nsid: number;
  blockSize: number;
  blockCount: number;
  identify: NamespaceIdentity;
  /** The controller serves the vendor LBA allocation map log page (0xC0) for this namespace. */
  allocationMap: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** CAP.TO counts 500 ms units (NVMe Base 2.0, Figure 36). */
const CAP_TO_UNIT_MS = 500;
/** Longest pause between two CSTS polls while enabling or shutting down. */
const CSTS_POLL_MAX_MS = 50;

export class Association {
  admin!: QueuePair;
  io: QueuePair[] = [];
  cntlid = 0;
  cap!: ControllerCapabilities;
  version = 0;
  identify!: ControllerIdentity;
  namespaces = new Map<number, NamespaceInfo>();
  /** Largest data transfer of one command in bytes (MDTS); Infinity when unlimited. */
  maxTransfer = Infinity;
  private closed = false;

  constructor(private readonly p: AssociationParams) {}

  /** Every queue pair, admin first; the controller sweeps their deadlines. */
  get pairs(): QueuePair[] {
    return this.admin ? [this.admin, ...this.io] : this.io;
  }

  /** Connects and initialises; on any failure closes what it opened and rethrows. */
  async establish(): Promise<void> {
    try {
      await this.run();
    } catch (err) {
      this.close('association setup failed');
      throw err;
    }
  }

  private async openQueue(qid: number, depth: number): Promise<QueuePair> {
    const { p } = this;
    const queue = await HostQueue.connect({
      host: p.host,
      port: p.port,
      hdgst: p.hdgst,
      ddgst: p.ddgst,
      connectTimeoutMs: p.connectTimeoutMs,
      logger: p.logger,
    });
    const pair = new QueuePair(queue, {
      qid,
      // A queue of N entries holds N-1 commands (NVMe Base 2.0, 3.3.1.1 "Full Queue").
      maxOutstanding: depth - 1,
      commandTimeoutMs: p.commandTimeoutMs,
      onFault: (reason) => p.onFault(this, reason),
      logger: p.logger,
    });
    if (this.closed) pair.close('association closed');
    return pair;
  }

  private async connectQueue(pair: QueuePair, depth: number): Promise<number> {
    const { p } = this;
    const { sqe, data } = connectCommand({
      qid: pair.qid,
      sqsize: depth - 1,
      kato: pair.qid === 0 ? p.kato : 0,
      hostid: p.hostid,
      cntlid: pair.qid === 0 ? CNTLID_DYNAMIC : this.cntlid,
      subnqn: p.subnqn,
      hostnqn: p.hostnqn,
    });
    const what = `Connect qid ${pair.qid} to ${p.subnqn} at ${p.host}:${p.port}`;
    const { cqe } = await pair.submit(sqe, { data }, what);
    return connectResult(cqe);
  }

  private async run(): Promise<void> {
    const { p } = this;
    const log = p.logger;
    this.admin = await this.openQueue(0, ADMIN_QUEUE_SIZE);
    this.cntlid = await this.connectQueue(this.admin, ADMIN_QUEUE_SIZE);
    log.debug({ cntlid: this.cntlid }, 'admin queue connected');

    this.cap = await readCapabilities(this.admin);
    this.version = Number(await propertyGet(this.admin, PROPERTY_VS));
    await this.enable();
    this.identify = await identifyController(this.admin);
    this.maxTransfer = maxTransferBytes(this.identify, this.cap);
    if (p.discovery) return;

    const wanted = Math.max(0, p.nrIoQueues);
    let count = 0;
    if (wanted > 0) {
      count = await setNumberOfQueues(this.admin, wanted);
      if (count < wanted)
        log.info({ wanted, granted: count }, 'controller granted fewer I/O queues');
    }
    const depth = Math.min(p.queueDepth, this.cap.mqes + 1);
    const maxcmd = this.identify.maxcmd > 0 ? this.identify.maxcmd : Infinity;
    const inCapsule = ioInCapsuleDataSize(this.identify);
    if (this.identify.icdoff !== 0) {
      // NVMe/TCP 1.0, 3.3.1: in-capsule data starts right after the SQE; a controller that asks
      // for another offset is not one this host can send in-capsule data to.
      log.warn(
        { icdoff: this.identify.icdoff },
        'ICDOFF is not 0: no in-capsule data on I/O queues',
      );
    }
    this.io = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const pair = await this.openQueue(i + 1, Math.min(depth, maxcmd + 1));
        this.io[i] = pair; // visible to close() while the others are still connecting
        await this.connectQueue(pair, depth);
        pair.queue.inCapsuleDataSize = this.identify.icdoff === 0 ? inCapsule : 0;
        return pair;
      }),
    );
    await this.scanNamespaces();
  }

  /**
   * CC.EN=1 then CSTS.RDY=1 within CAP.TO (NVMe Base 2.0, 3.5.2 "Controller Initialization":
   * CC.CSS, CC.MPS, CC.IOSQES/IOCQES set with EN). CAP.TO is in 500 ms units; like Linux
   * (nvme_wait_ready) one unit is added so that a controller reporting 0 still gets a chance.
   */
  private async enable(): Promise<void> {
    await propertySet(this.admin, PROPERTY_CC, enableConfiguration(this.cap));
    const limitMs = (this.cap.to + 1) * CAP_TO_UNIT_MS;
    const start = Date.now();
    for (let attempt = 0; ; attempt++) {
      const csts = await readStatus(this.admin);
      if (csts.cfs) {
        throw new NvmeStatusError(
          StatusCodeType.Generic,
          GenericStatus.InternalError,
          `controller ${this.p.subnqn} reports a fatal status (CSTS.CFS) while enabling`,
          false,
        );
      }
      if (csts.rdy) return;
      if (Date.now() - start > limitMs) {
        throw new NvmeStatusError(
          StatusCodeType.Generic,
          GenericStatus.NamespaceNotReady,
          `controller ${this.p.subnqn} did not become ready within CAP.TO (${limitMs} ms)`,
          false,
        );
      }
      await sleep(Math.min(CSTS_POLL_MAX_MS, 1 << attempt));
    }
  }

  /** Active namespaces and their geometry (Identify CNS 02h, then CNS 00h for each). */
  async scanNamespaces(): Promise<void> {
    const nsids = await activeNamespaces(this.admin);
    const found = new Map<number, NamespaceInfo>();
    for (const nsid of nsids) {
      const identify = await identifyNamespace(this.admin, nsid);
      if (identify.nsze === 0 || identify.blockSize === 0) continue; // inactive or unusable format
      const allocationMap = await probeLogPage(this.admin, ALLOCATION_MAP_LOG_PAGE, nsid);
      found.set(nsid, {
        nsid,
        blockSize: identify.blockSize,
        blockCount: identify.nsze,
        identify,
        allocationMap,
      });
    }
    this.namespaces = found;
  }

  /**
   * Normal shutdown (CC.SHN=01b, wait CSTS.SHST=10b), bounded by `timeoutMs`; errors are ignored
   * since the association is going away either way.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    if (this.closed || this.admin.failed) return;
    const start = Date.now();
    try {
      await propertySet(this.admin, PROPERTY_CC, shutdownConfiguration(this.cap));
      while (Date.now() - start < timeoutMs) {
        const csts = await readStatus(this.admin);
        if (csts.shutdownComplete) return;
        await sleep(CSTS_POLL_MAX_MS / 5);
      }
      this.p.logger.warn({ timeoutMs }, 'controller shutdown did not complete in time');
    } catch (err) {
      this.p.logger.debug({ err }, 'shutdown failed');
    }
  }

  /** Closes every queue; in-flight commands fail with a connection-lost error. */
  close(reason: string): void {
    this.closed = true;
    for (const pair of this.io) pair?.close(reason);
    this.admin?.close(reason);
  }
}
