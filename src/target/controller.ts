/**
 * One controller (NVMe Base 2.0, 3.1; NVMe-oF 1.1, 3.5): created by an admin-queue Connect,
 * owned by one host, gone when its admin connection closes, the host disconnects it, or its
 * keep-alive timer expires. It holds the controller properties (CAP, VS, CC, CSTS) and the state
 * machine they drive, the I/O queues connected to it, the features the host set, the held
 * Asynchronous Event Requests and the error log.
 */
import type { Logger } from 'pino';
import {
  encodeCap,
  decodeCc,
  encodeCsts,
  ShutdownNotification,
  ShutdownStatus,
  CC_CSS_NVM,
  CC_CSS_ADMIN_ONLY,
  CAP_CSS_NVM,
  IOSQES_64_BYTES,
  IOCQES_16_BYTES,
} from '../nvme/properties.js';
import { AEC_NS_ATTRIBUTE, AEC_DISCOVERY_LOG_CHANGE } from '../nvme/features.js';
import {
  type AsyncEvent,
  encodeAsyncEventDw0,
  NAMESPACE_CHANGED_EVENT,
  DISCOVERY_LOG_CHANGED_EVENT,
} from '../nvme/async-event.js';
import { encodeCqeStatus } from '../nvme/cqe.js';
import {
  NvmeStatusError,
  StatusCodeType,
  GenericStatus,
  CommandSpecificStatus,
} from '../nvme/status.js';
import {
  type ErrorLogEntry,
  CHANGED_NS_LIST_MAX,
  CHANGED_NS_LIST_OVERFLOW,
} from '../nvme/log-pages.js';
import type { Subsystem, AttachedController } from './subsystem.js';
import type { QueueLink } from './queue-link.js';
import type { CommandResponse } from './to-nvme-status.js';
import {
  CAP_MQES,
  CAP_TIMEOUT_UNITS,
  MAX_IO_QUEUES,
  ASYNC_EVENT_REQUEST_LIMIT,
  ERROR_LOG_ENTRIES,
  KAS_UNIT_MS,
} from './controller-limits.js';

/** The controller's state; CSTS is derived from it (Base 2.0, 3.6 "Controller Shutdown"). */
export const enum ControllerState {
  /** CC.EN = 0: only Fabrics commands are processed. */
  Disabled = 'disabled',
  /** CC.EN = 1, CSTS.RDY = 1. */
  Ready = 'ready',
  /** CC.SHN set: flushing; CSTS.SHST = 01b. */
  ShutdownOccurring = 'shutdown-occurring',
  /** CSTS.SHST = 10b: every namespace flushed. */
  ShutdownComplete = 'shutdown-complete',
  /** CSTS.CFS = 1: the host enabled with a configuration this controller cannot run. */
  Fatal = 'fatal',
  /** Torn down; its queues are closed. */
  Destroyed = 'destroyed',
}

/** Events this controller can report, enabled by default (the host narrows them with AEC). */
const SUPPORTED_AEC = AEC_NS_ATTRIBUTE | AEC_DISCOVERY_LOG_CHANGE;

export interface ControllerOptions {
  subsystem: Subsystem;
  cntlid: number;
  hostnqn: string;
  hostid: Buffer;
  /** Keep Alive Timeout in ms from the admin Connect; 0 disables the timer. */
  kato: number;
  logger: Logger;
  /** Called once when the controller is destroyed (the target forgets it). */
  onDestroy?: (ctrl: Controller, reason: string) => void;
}

export class Controller implements AttachedController {
  readonly subsystem: Subsystem;
  readonly cntlid: number;
  readonly hostnqn: string;
  readonly hostid: Buffer;
  readonly log: Logger;
  readonly cap: bigint;
  admin: QueueLink | undefined;
  readonly ioQueues = new Map<number, QueueLink>();
  /** I/O queues the host may connect (Set Features Number of Queues). */
  grantedIoQueues = MAX_IO_QUEUES;
  asyncEventConfig = SUPPORTED_AEC;
  private katoMs: number;
  private stateValue = ControllerState.Disabled;
  private ccValue = 0;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private readonly heldAers: ((r: CommandResponse) => void)[] = [];
  private readonly pendingEvents: AsyncEvent[] = [];
  /** Log pages whose event was reported and not yet read: no more events of that kind until then. */
  private readonly maskedLogPages = new Set<number>();
  private readonly changedNsids = new Set<number>();
  private changedOverflow = false;
  private readonly errors: ErrorLogEntry[] = [];
  private errorCount = 0;
  private readonly onDestroy?: (ctrl: Controller, reason: string) => void;

  constructor(opts: ControllerOptions) {
    this.subsystem = opts.subsystem;
    this.cntlid = opts.cntlid;
    this.hostnqn = opts.hostnqn;
    this.hostid = opts.hostid;
    this.katoMs = roundKato(opts.kato);
    this.onDestroy = opts.onDestroy;
    this.log = opts.logger.child({ subnqn: opts.subsystem.nqn, cntlid: opts.cntlid });
    this.cap = encodeCap({
      mqes: CAP_MQES,
      cqr: true, // NVMe-oF 1.1, 3.5: CAP.CQR is 1 for every Fabrics controller
      to: CAP_TIMEOUT_UNITS,
      css: CAP_CSS_NVM,
      mpsmin: 0,
      mpsmax: 0,
    });
    this.armKeepAlive();
  }

  get isDiscovery(): boolean {
    return this.subsystem.type === 'discovery';
  }

  get state(): ControllerState {
    return this.stateValue;
  }

  private setState(next: ControllerState): void {
    if (next === this.stateValue) return;
    this.log.debug({ from: this.stateValue, to: next }, 'controller state');
    this.stateValue = next;
  }

  /** CSTS.RDY: commands other than Fabrics ones are processed. */
  get isReady(): boolean {
    const s = this.stateValue;
    return (
      s === ControllerState.Ready ||
      s === ControllerState.ShutdownOccurring ||
      s === ControllerState.ShutdownComplete
    );
  }

  get cc(): number {
    return this.ccValue;
  }

  get csts(): number {
    const s = this.stateValue;
    return encodeCsts({
      rdy: this.isReady,
      cfs: s === ControllerState.Fatal,
      shst:
        s === ControllerState.ShutdownOccurring
          ? ShutdownStatus.Occurring
          : s === ControllerState.ShutdownComplete
            ? ShutdownStatus.Complete
            : ShutdownStatus.Normal,
    });
  }

  get kato(): number {
    return this.katoMs;
  }

  /**
   * Property Set CC (Base 2.0, 3.1.3.5 and 3.5.1): EN 0→1 enables (or sets CFS on a configuration
   * this controller cannot run), EN 1→0 resets, SHN 00→01/10 shuts down: every namespace is
   * flushed, then CSTS.SHST reads 10b.
   */
  setCc(value: number): void {
    const next = decodeCc(value);
    const prev = decodeCc(this.ccValue);
    this.ccValue = value >>> 0;
    if (prev.en && !next.en) {
      this.reset();
      return;
    }
    if (!prev.en && next.en) {
      this.setState(this.validEnable(next) ? ControllerState.Ready : ControllerState.Fatal);
    }
    if (!this.isReady) return;
    if (next.shn !== ShutdownNotification.None && prev.shn === ShutdownNotification.None) {
      this.shutdown();
    } else if (next.shn === ShutdownNotification.None && prev.shn !== ShutdownNotification.None) {
      this.setState(ControllerState.Ready);
    }
  }

  private validEnable(cc: ReturnType<typeof decodeCc>): boolean {
    const cssOk = cc.css === CC_CSS_NVM || (this.isDiscovery && cc.css === CC_CSS_ADMIN_ONLY);
    const ok =
      cssOk &&
      cc.mps === 0 &&
      cc.ams === 0 &&
      cc.iosqes === IOSQES_64_BYTES &&
      cc.iocqes === IOCQES_16_BYTES;
    if (!ok) this.log.warn({ cc }, 'enable with an unsupported configuration: CSTS.CFS set');
    return ok;
  }

  /** Controller Level Reset (Base 2.0, 3.7.2): I/O queues go, held AERs are aborted. */
  private reset(): void {
    this.setState(ControllerState.Disabled);
    this.ccValue = 0;
    for (const q of this.ioQueues.values()) q.close('controller reset');
    this.ioQueues.clear();
    this.abortHeldAers();
  }

  private shutdown(): void {
    this.setState(ControllerState.ShutdownOccurring);
    const flushes = this.subsystem.namespaces.map((ns) => ns.bdev.flush());
    Promise.allSettled(flushes).then((results) => {
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length) this.log.error({ failed: failed.length }, 'flush at shutdown failed');
      if (this.stateValue === ControllerState.ShutdownOccurring) {
        this.setState(ControllerState.ShutdownComplete);
      }
    });
  }

  // ---- keep alive (Base 2.0, 3.9) ----------------------------------------------------------------

  /** Set Features Keep Alive Timer. */
  setKato(ms: number): void {
    this.katoMs = roundKato(ms);
    this.armKeepAlive();
  }

  /**
   * Any command restarts the timer (Traffic Based Keep Alive, CTRATT bit 6): a host busy with
   * I/O is alive whether or not its Keep Alive commands are queued behind that I/O. On the data
   * path this only notes the time; the timer, when it fires, waits out the rest of the period.
   */
  restartKeepAlive(): void {
    this.lastActivity = Date.now();
  }

  private armKeepAlive(): void {
    if (this.keepAliveTimer) clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    if (this.katoMs === 0 || this.stateValue === ControllerState.Destroyed) return;
    this.lastActivity = Date.now();
    const check = (): void => {
      const idle = Date.now() - this.lastActivity;
      if (idle < this.katoMs) {
        this.keepAliveTimer = setTimeout(check, this.katoMs - idle);
        this.keepAliveTimer.unref();
        return;
      }
      this.log.warn({ katoMs: this.katoMs }, 'keep alive timeout: tearing the association down');
      this.destroy('keep alive timeout');
    };
    this.keepAliveTimer = setTimeout(check, this.katoMs);
    this.keepAliveTimer.unref();
  }

  // ---- queues ------------------------------------------------------------------------------------

  attachIoQueue(qid: number, link: QueueLink): void {
    this.ioQueues.set(qid, link);
  }

  detachIoQueue(qid: number, link: QueueLink): void {
    if (this.ioQueues.get(qid) === link) this.ioQueues.delete(qid);
  }

  /** Ends the association: every queue closed, held AERs aborted, the CNTLID freed. */
  destroy(reason: string): void {
    if (this.stateValue === ControllerState.Destroyed) return;
    this.setState(ControllerState.Destroyed);
    if (this.keepAliveTimer) clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    this.abortHeldAers();
    for (const q of this.ioQueues.values()) q.close(reason);
    this.ioQueues.clear();
    this.admin?.close(reason);
    this.subsystem.detach(this);
    this.log.info({ reason }, 'controller destroyed');
    this.onDestroy?.(this, reason);
  }

  get destroyed(): boolean {
    return this.stateValue === ControllerState.Destroyed;
  }

  // ---- asynchronous events (Base 2.0, 5.2) -------------------------------------------------------

  /** An Asynchronous Event Request: held until an event occurs (or answered at once if one waits). */
  asyncEventRequest(): Promise<CommandResponse> {
    if (this.heldAers.length > ASYNC_EVENT_REQUEST_LIMIT) {
      throw new NvmeStatusError(
        StatusCodeType.CommandSpecific,
        CommandSpecificStatus.AsyncEventRequestLimitExceeded,
        `more than ${ASYNC_EVENT_REQUEST_LIMIT + 1} Asynchronous Event Requests outstanding`,
      );
    }
    return new Promise((resolve) => {
      this.heldAers.push(resolve);
      this.deliverEvents();
    });
  }

  /** Held AERs; an Abort never aborts them, a reset or teardown does. */
  get heldAsyncEventRequests(): number {
    return this.heldAers.length;
  }

  namespacesChanged(nsids: readonly number[]): void {
    for (const n of nsids) this.changedNsids.add(n);
    if (this.changedNsids.size > CHANGED_NS_LIST_MAX) this.changedOverflow = true;
    this.raise(NAMESPACE_CHANGED_EVENT, AEC_NS_ATTRIBUTE);
  }

  discoveryLogChanged(): void {
    this.raise(DISCOVERY_LOG_CHANGED_EVENT, AEC_DISCOVERY_LOG_CHANGE);
  }

  private raise(event: AsyncEvent, aecBit: number): void {
    if (!(this.asyncEventConfig & aecBit) || this.destroyed) return;
    if (this.maskedLogPages.has(event.lid)) return;
    if (this.pendingEvents.some((e) => e.lid === event.lid)) return;
    this.pendingEvents.push(event);
    this.deliverEvents();
  }

  private deliverEvents(): void {
    while (this.heldAers.length > 0 && this.pendingEvents.length > 0) {
      const event = this.pendingEvents.shift()!;
      const complete = this.heldAers.shift()!;
      this.maskedLogPages.add(event.lid);
      complete({ status: 0, dw0: encodeAsyncEventDw0(event) });
    }
  }

  private abortHeldAers(): void {
    const status = encodeCqeStatus(StatusCodeType.Generic, GenericStatus.AbortedSqDeletion);
    for (const complete of this.heldAers.splice(0)) complete({ status });
  }

  /**
   * A log page was read. Without RAE the event it reports is cleared and may be reported again;
   * the Changed Namespace List empties (Base 2.0, 5.16.1.5).
   */
  logPageRead(lid: number, retainEvent: boolean): void {
    if (retainEvent) return;
    this.maskedLogPages.delete(lid);
  }

  /** The Changed Namespace List, emptied when `clear` (a read without RAE). */
  takeChangedNamespaces(clear: boolean): number[] {
    const list = this.changedOverflow ? [CHANGED_NS_LIST_OVERFLOW] : [...this.changedNsids];
    if (clear) {
      this.changedNsids.clear();
      this.changedOverflow = false;
    }
    return list;
  }

  // ---- error log (Base 2.0, 5.16.1.2) ------------------------------------------------------------

  recordError(e: Omit<ErrorLogEntry, 'errorCount'>): void {
    this.errorCount++;
    this.errors.unshift({ ...e, errorCount: this.errorCount });
    if (this.errors.length > ERROR_LOG_ENTRIES) this.errors.pop();
  }

  /** Newest first, as the log reports them. */
  get errorLog(): readonly ErrorLogEntry[] {
    return this.errors;
  }

  get errorsRecorded(): number {
    return this.errorCount;
  }
}

/** KATO rounded up to the KAS granularity (Base 2.0, 5.27.1.12). */
export const roundKato = (ms: number): number => Math.ceil(ms / KAS_UNIT_MS) * KAS_UNIT_MS;
