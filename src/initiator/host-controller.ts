/**
 * The NVMe-oF host controller: one logical connection to one subsystem, kept alive and
 * re-established when it breaks. Lifecycle, as Linux's nvme-fabrics host runs it:
 *
 *   connect() ─► live ──(queue lost | command timeout)──► connecting ──(reconnected)──► live
 *                 │                                          │ (ctrl-loss timeout)
 *                 └───────────────── close() ──────────────► deleted ◄┘
 *
 * On a fault every in-flight command fails at once with a transient transport error (DNR=0), so
 * nothing waits on a dead connection. What happens next to I/O is Linux's fast_io_fail_tmo choice:
 * with fastIoFailTmoMs 0 (the default, what a mirror leg wants) new I/O fails at once with a path
 * status while not live; with fastIoFailTmoMs > 0 new I/O waits for the reconnect and a failed
 * in-flight command is sent again (at most maxRetries times, as nvme_max_retries) until that long
 * after the loss. Admin commands never wait. Reconnect attempts back off from reconnectDelayMs,
 * doubling to maxReconnectDelayMs, until ctrlLossTimeoutMs after the loss.
 */
import { EventEmitter } from 'node:events';
import pino, { type Logger } from 'pino';
import { Association, type NamespaceInfo } from './association.js';
import { associationParams } from './association-params.js';
import type { Completion, CompletionCallback, SubmitIo } from './queue-pair.js';
import { notLiveError, type What } from './completion-error.js';
import { RequeueGate } from './requeue-gate.js';
import { DeadlineSweep, KeepAliveTimer } from './controller-timers.js';
import { NvmeStatusError } from '../nvme/status.js';
import { isHostSideFailure } from './host-side-failure.js';
import { reportNamespaceChanges } from './namespace-changes.js';
import { resolveHostIdentity } from './host-identity.js';
import { keepAliveCommand, type ControllerIdentity } from './commands.js';
import { RemoteBdev } from './remote-bdev.js';
import {
  type HostControllerOptions,
  type ResolvedControllerOptions,
  resolveControllerOptions,
} from './controller-options.js';

export type { HostControllerOptions };

export type ControllerState = 'connecting' | 'live' | 'deleted';

export interface HostControllerEvents {
  state: [ControllerState];
}

export class HostController extends EventEmitter<HostControllerEvents> {
  readonly subnqn: string;
  readonly hostnqn: string;
  readonly traddr: string;
  readonly trsvcid: string;
  private readonly hostid: Buffer;
  private readonly opt: ResolvedControllerOptions;
  private readonly log: Logger;
  private assoc: Association | undefined;
  /** The most recent live association, kept for identity and geometry while reconnecting. */
  private last: Association | undefined;
  /** The association being set up (its commands are bounded by timeouts too). */
  private establishing: Association | undefined;
  private current: ControllerState = 'connecting';
  private readonly bdevs = new Map<number, RemoteBdev>();
  private readonly sweep: DeadlineSweep;
  private readonly keepAlive: KeepAliveTimer;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = 0;
  private lostAt = 0;
  private rr = 0;
  private closing: Promise<void> | undefined;
  private readonly gate = new RequeueGate();

  private constructor(o: HostControllerOptions) {
    super();
    const port = Number(o.trsvcid);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`trsvcid "${o.trsvcid}" is not a TCP port number`);
    }
    this.subnqn = o.subnqn;
    this.traddr = o.traddr;
    this.trsvcid = String(port);
    const identity = resolveHostIdentity(o.hostnqn, o.hostid);
    this.hostnqn = identity.hostnqn;
    this.hostid = identity.hostid;
    this.opt = resolveControllerOptions(o);
    this.log = (o.logger ?? pino({ level: 'silent' })).child({
      subnqn: o.subnqn,
      traddr: `${o.traddr}:${port}`,
    });
    // Deadlines of the live association and of one being set up; Keep Alive is bounded by KATO
    // even when other commands have no timeout.
    this.sweep = new DeadlineSweep([this.opt.commandTimeoutMs, this.opt.kato], () => [
      ...(this.assoc?.pairs ?? []),
      ...(this.establishing?.pairs ?? []),
    ]);
    this.keepAlive = new KeepAliveTimer(
      this.opt.kato,
      (timeoutMs) => this.adminCommand(keepAliveCommand(), undefined, 'Keep Alive', timeoutMs),
      this.log,
    );
  }

  /** Connects the admin queue, enables the controller, identifies it and connects the I/O queues. */
  static async connect(opts: HostControllerOptions): Promise<HostController> {
    const ctrl = new HostController(opts);
    ctrl.sweep.start();
    try {
      ctrl.assoc = await ctrl.newAssociation();
    } catch (err) {
      ctrl.stopTimers();
      ctrl.current = 'deleted';
      throw err;
    }
    ctrl.goLive();
    return ctrl;
  }

  get state(): ControllerState {
    return this.current;
  }

  /** Identify Controller data of the current (or last) association. */
  get identify(): ControllerIdentity {
    return this.requireAssoc().identify;
  }

  /** Controller ID the subsystem assigned on the admin Connect. */
  get cntlid(): number {
    return this.requireAssoc().cntlid;
  }

  /** I/O queues connected in the current association. */
  get ioQueueCount(): number {
    return this.assoc?.io.length ?? 0;
  }

  /** Largest transfer of one command (MDTS) in bytes; Infinity when the controller sets no limit. */
  get maxTransferBytes(): number {
    return this.requireAssoc().maxTransfer;
  }

  /** Active namespace IDs, as of the last (re)connect (kept while reconnecting). */
  namespaces(): number[] {
    return [...((this.assoc ?? this.last)?.namespaces.keys() ?? [])].sort((a, b) => a - b);
  }

  namespaceInfo(nsid: number): NamespaceInfo | undefined {
    return (this.assoc ?? this.last)?.namespaces.get(nsid);
  }

  /** The namespace as a bdev; one instance per NSID, usable across reconnects. */
  namespace(nsid: number): RemoteBdev {
    let bdev = this.bdevs.get(nsid);
    if (!bdev) {
      const info = this.namespaceInfo(nsid);
      if (!info) {
        throw new RangeError(
          `namespace ${nsid} is not active on ${this.subnqn}; active: ${this.namespaces().join(', ') || 'none'}`,
        );
      }
      bdev = new RemoteBdev(this, info);
      this.bdevs.set(nsid, bdev);
    }
    return bdev;
  }

  /** Submits an admin command; fails at once unless live. `timeoutMs` overrides the default. */
  adminCommand(
    sqe: Buffer,
    io: SubmitIo | undefined,
    what: string,
    timeoutMs?: number,
  ): Promise<Completion> {
    const assoc = this.assoc;
    if (this.current !== 'live' || !assoc) return Promise.reject(this.notLive(what));
    return assoc.admin.submit(sqe, io, what, timeoutMs);
  }

  /**
   * Submits an I/O command on the next I/O queue (round robin). Unless live it fails at once, or
   * with fastIoFailTmoMs waits for the reconnect; see the header for retries.
   */
  ioCommand(sqe: Buffer, io: SubmitIo | undefined, what: What): Promise<Completion> {
    const requeue = this.opt.fastIoFailTmoMs > 0;
    if (this.current === 'live' && this.assoc) {
      if (this.assoc.io.length === 0) return Promise.reject(this.noIoQueues(what));
      const sent = this.ioQueue(what).submit(sqe, io, what);
      return requeue ? sent.catch((err: unknown) => this.retry(err, sqe, io, what, 1)) : sent;
    }
    if (!requeue || this.current === 'deleted') return Promise.reject(this.notLive(what));
    return this.retry(undefined, sqe, io, what, 0);
  }

  /**
   * ioCommand() for the data path, with the outcome going to `done` (once, never synchronously):
   * a live controller without requeueing hands it straight to an I/O queue's callback form, so
   * the command costs no promise; anything else takes ioCommand() and reports its outcome.
   */
  ioCommandWithCallback(
    sqe: Buffer,
    io: SubmitIo | undefined,
    what: What,
    done: CompletionCallback,
  ): void {
    const assoc = this.assoc;
    if (this.current === 'live' && assoc && assoc.io.length > 0 && this.opt.fastIoFailTmoMs <= 0) {
      assoc.io[this.rr++ % assoc.io.length].submitWithCallback(sqe, io, what, done);
      return;
    }
    this.ioCommand(sqe, io, what).then(
      (c) => done(null, c),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private noIoQueues(what: What) {
    return this.notLive(`${String(what)} (no I/O queues were granted)`);
  }

  /** The next I/O queue, round robin; throws (inside `retry`) when none was granted. */
  private ioQueue(what: What) {
    const queues = this.assoc!.io;
    if (queues.length === 0) throw this.noIoQueues(what);
    return queues[this.rr++ % queues.length];
  }

  /** Sends a command again after the controller is live, while the fast-I/O-fail time allows. */
  private async retry(
    err: unknown,
    sqe: Buffer,
    io: SubmitIo | undefined,
    what: What,
    attempt: number,
  ): Promise<Completion> {
    for (;;) {
      if (err !== undefined && !this.retryable(err, attempt)) throw err;
      if (this.current !== 'live') {
        await this.gate.wait(this.lostAt + this.opt.fastIoFailTmoMs, () => this.notLive(what));
      }
      try {
        return await this.ioQueue(what).submit(sqe, io, what);
      } catch (next) {
        err = next;
        attempt++;
      }
    }
  }

  /** Host-side failures only (lost connection, timeout): the controller's own statuses stand. */
  private retryable(err: unknown, attempt: number): boolean {
    return isHostSideFailure(err) && attempt <= this.opt.maxRetries && this.current !== 'deleted';
  }

  private notLive(what: What) {
    return notLiveError(
      `${String(what)} on ${this.subnqn}`,
      this.current === 'connecting' ? 'reconnecting' : 'deleted',
      this.current === 'connecting',
    );
  }

  /** Shuts the controller down (CC.SHN, bounded) and closes every queue; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const assoc = this.assoc;
    this.stopTimers();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.establishing?.close(`controller ${this.subnqn} closed`);
    this.setState('deleted');
    if (!assoc) return;
    this.sweep.start(); // commands during shutdown are still bounded by their timeout
    await assoc.shutdown(this.opt.shutdownTimeoutMs);
    this.stopTimers();
    assoc.close(`controller ${this.subnqn} closed`);
    this.assoc = undefined;
  }

  private requireAssoc(): Association {
    const assoc = this.assoc ?? this.last;
    if (!assoc) throw this.notLive('this request');
    return assoc;
  }

  private setState(next: ControllerState): void {
    if (next === this.current) return;
    this.log.info({ from: this.current, to: next }, 'controller state');
    this.current = next;
    if (next === 'live') this.gate.open();
    if (next === 'deleted') this.gate.fail(() => this.notLive('queued I/O'));
    this.emit('state', next);
  }

  private async newAssociation(): Promise<Association> {
    const assoc = new Association(
      associationParams(this, this.hostid, this.opt, this.log, (failed, reason) =>
        this.onFault(failed, reason),
      ),
    );
    this.establishing = assoc;
    try {
      await assoc.establish();
      return assoc;
    } finally {
      this.establishing = undefined;
    }
  }

  private goLive(): void {
    this.last = this.assoc;
    this.reconnectDelay = this.opt.reconnectDelayMs;
    this.keepAlive.start();
    this.setState('live');
  }

  /** A queue of the live association failed: tear it down, fail in-flight, start reconnecting. */
  private onFault(assoc: Association, reason: string): void {
    if (assoc !== this.assoc || this.current !== 'live') return;
    this.log.warn({ reason }, 'controller connection lost; reconnecting');
    this.assoc = undefined;
    this.keepAlive.stop();
    assoc.close(reason);
    this.lostAt = Date.now();
    this.reconnectDelay = this.opt.reconnectDelayMs;
    this.setState('connecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const left = this.lostAt + this.opt.ctrlLossTimeoutMs - Date.now();
    if (left <= 0) {
      this.log.error({ ctrlLossTimeoutMs: this.opt.ctrlLossTimeoutMs }, 'controller loss timeout');
      this.stopTimers();
      this.setState('deleted');
      return;
    }
    const wait = Math.min(this.reconnectDelay, left);
    this.reconnectTimer = setTimeout(() => void this.reconnect(), wait);
  }

  private async reconnect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.current !== 'connecting') return;
    try {
      const assoc = await this.newAssociation();
      if (this.current !== 'connecting') {
        assoc.close('controller closed while reconnecting');
        return;
      }
      this.assoc = assoc;
      reportNamespaceChanges(this.bdevs, assoc.namespaces, this.log);
      this.log.info({ cntlid: assoc.cntlid }, 'reconnected');
      this.goLive();
    } catch (err) {
      if (this.current !== 'connecting') return;
      if (err instanceof NvmeStatusError && err.dnr) {
        // The controller refused us for good (e.g. Connect Invalid Host after an ACL change):
        // trying again cannot help (Linux removes the controller on a DNR connect status).
        this.log.error({ err: err.message }, 'reconnect refused; giving up');
        this.stopTimers();
        this.setState('deleted');
        return;
      }
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.opt.maxReconnectDelayMs);
      this.log.warn(
        { err: (err as Error).message, retryInMs: this.reconnectDelay },
        'reconnect failed',
      );
      this.scheduleReconnect();
    }
  }

  private stopTimers(): void {
    this.keepAlive.stop();
    this.sweep.stop();
  }
}
