/**
 * One submission/completion queue pair of a host controller over one NVMe/TCP connection
 * (HostQueue): queue-depth flow control on the host side, a deadline per command, and the mapping
 * of every way a command can end into exactly one outcome (DESIGN.md: every command completes
 * exactly once). The queue does not decide what to do on a fault; it reports it to its controller.
 */
import type { Logger } from 'pino';
import type { HostQueue } from '../transport/tcp/host-queue.js';
import { TagTable } from '../transport/tcp/tag-table.js';
import { NvmeStatusError } from '../nvme/status.js';
import { cqeOk, cqeCid, decodeCqe } from '../nvme/cqe.js';
import { SQE_OPCODE, SQE_NSID, SQE_FCTYPE, SQE_CDW10, SQE_CDW11, SQE_CDW12 } from '../nvme/sqe.js';
import { FABRICS_OPCODE, IoOpcode } from '../nvme/opcodes.js';
import { IO_SLBA, IO_NLB_MASK } from '../nvme/io-command.js';
import { readU64 } from '../nvme/codec.js';
import {
  completionError,
  connectionLostError,
  commandTimeoutError,
  type What,
} from './completion-error.js';

/** NVM commands with SLBA in CDW10-11 and NLB in CDW12 (NVM Command Set 1.0, 3.2). */
const LBA_OPCODES: ReadonlySet<number> = new Set([
  IoOpcode.Read,
  IoOpcode.Write,
  IoOpcode.Compare,
  IoOpcode.WriteZeroes,
  IoOpcode.WriteUncorrectable,
  IoOpcode.Verify,
]);

export interface SubmitIo {
  /** Host-to-controller data (write, DSM ranges, Connect data). */
  data?: Buffer | readonly Buffer[];
  /** Controller-to-host data length (read, Identify, Get Log Page). */
  readLength?: number;
}

export interface Completion {
  cqe: Buffer;
  data?: Buffer;
}

/** One submitted command as the pair tracks it; `settled` makes the outcome exactly-once. */
interface Pending {
  sqe: Buffer;
  io: SubmitIo | undefined;
  what: What;
  /** This command's timeout in ms (0 = none); the pair's default unless the caller set one. */
  timeoutMs: number;
  deadline: number;
  started: boolean;
  settled: boolean;
  /** The one outcome: the completion of a successful command, or why it failed. */
  done: CompletionCallback;
  /** Its tag in the pair's table of outstanding commands; -1 when not there. */
  tag: number;
}

/**
 * How a command submitted with submitWithCallback() ends: exactly once, never synchronously,
 * with the completion or with the error submit() would reject with.
 */
export type CompletionCallback = (err: Error | null, c?: Completion) => void;

export interface QueuePairOptions {
  qid: number;
  /** Commands outstanding at the controller at most (SQSIZE, MAXCMD); more wait here. */
  maxOutstanding: number;
  /** 0 disables command timeouts. */
  commandTimeoutMs: number;
  /** Called once when the connection fails or a command times out; the controller resets. */
  onFault(reason: string): void;
  logger: Logger;
}

export class QueuePair {
  readonly qid: number;
  private readonly maxOutstanding: number;
  private readonly timeoutMs: number;
  private readonly onFault: (reason: string) => void;
  private readonly log: Logger;
  /**
   * Submitted to the HostQueue, not yet completed. A tag table, not a Set: a Set that adds and
   * deletes one entry per command rehashes every few dozen commands, and each table it leaves
   * behind points to the next one. Once a Mark-Compact has promoted the table in use, every later
   * table (and each Pending in it, with its data and its caller's callback) is kept alive by the
   * dead one before it until the next Mark-Compact: ~3 MB survived every scavenge of nvmf-bench's
   * nvmf engine at QD32, and the mirror DPU ran a Mark-Compact every 0.2-0.7 s. Arrays leave no
   * such chain.
   */
  private readonly outstanding: TagTable<Pending>;
  /** Waiting for a free slot (host-side queue-depth limit). */
  private readonly waiting: Pending[] = [];
  private failure: string | undefined;
  private faultReported = false;
  /** Per-command trace records (pino level trace): what went on the wire, for tools and tests. */
  private readonly tracing: boolean;

  constructor(
    readonly queue: HostQueue,
    opts: QueuePairOptions,
  ) {
    this.qid = opts.qid;
    this.maxOutstanding = Math.max(1, opts.maxOutstanding);
    this.outstanding = new TagTable(this.maxOutstanding - 1);
    this.timeoutMs = opts.commandTimeoutMs;
    this.onFault = opts.onFault;
    this.log = opts.logger;
    this.tracing = this.log.isLevelEnabled('trace');
    queue.on('close', (err?: Error) => {
      this.fail(err ? err.message : 'connection closed');
    });
  }

  /** Commands submitted and not yet completed, including those waiting for a slot. */
  get inflight(): number {
    return this.outstanding.size + this.waiting.length;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Submits an encoded SQE (the pair sets the CID and SGL1 through the HostQueue). Resolves with the
   * CQE and data on success; rejects with an NvmeStatusError for an error status, a lost connection
   * or a timeout. `what` describes the command for error messages; `timeoutMs` overrides the
   * pair's command timeout for this command (Keep Alive is bounded by KATO, as Linux does).
   */
  submit(
    sqe: Buffer,
    io: SubmitIo | undefined,
    what: What,
    timeoutMs = this.timeoutMs,
  ): Promise<Completion> {
    return new Promise<Completion>((resolve, reject) => {
      this.submitWithCallback(
        sqe,
        io,
        what,
        (err, c) => (err ? reject(err) : resolve(c!)),
        timeoutMs,
      );
    });
  }

  /**
   * submit() for the data path: the outcome goes to `done` instead of a promise of its own, so
   * that a caller joining several commands (a mirror write) pays for no promise per command.
   */
  submitWithCallback(
    sqe: Buffer,
    io: SubmitIo | undefined,
    what: What,
    done: CompletionCallback,
    timeoutMs = this.timeoutMs,
  ): void {
    if (this.failure !== undefined) {
      const err = connectionLostError(what, this.failure);
      queueMicrotask(() => done(err));
      return;
    }
    const p: Pending = {
      sqe,
      io,
      what,
      timeoutMs,
      deadline: 0,
      started: false,
      settled: false,
      done,
      tag: -1,
    };
    if (this.outstanding.size < this.maxOutstanding) this.start(p);
    else this.waiting.push(p);
  }

  private start(p: Pending): void {
    p.started = true;
    p.deadline = p.timeoutMs > 0 ? Date.now() + p.timeoutMs : Infinity;
    p.tag = this.outstanding.alloc();
    this.outstanding.set(p.tag, p);
    // The transport's callback form: no promise of its own per command, only the caller's.
    this.queue.send(p.sqe, p.io, (err, c) => {
      if (err) {
        if (this.finish(p)) {
          p.done(err instanceof NvmeStatusError ? err : connectionLostError(p.what, err.message));
        }
        return;
      }
      if (this.tracing) this.trace(p, c!.cqe);
      if (this.finish(p)) {
        if (cqeOk(c!.cqe)) p.done(null, c);
        else p.done(completionError(c!.cqe, p.what));
      }
    });
  }

  /**
   * One 'command' record per completed command at pino level trace: what went on the wire (the
   * CID the transport gave it, the opcode, FCTYPE or NSID, CDW10-12, and for the NVM commands
   * that address blocks their SLBA and block count) and the status that came back. Tools and the
   * wire-validation tests compare these with a capture.
   */
  private trace(p: Pending, cqe: Buffer): void {
    const { sqe } = p;
    const { sct, sc } = decodeCqe(cqe);
    const opc = sqe[SQE_OPCODE];
    const fabrics = opc === FABRICS_OPCODE;
    const lba = this.qid > 0 && !fabrics && LBA_OPCODES.has(opc);
    this.log.trace(
      {
        qid: this.qid,
        cid: cqeCid(cqe),
        opc,
        ...(fabrics ? { fctype: sqe[SQE_FCTYPE] } : { nsid: sqe.readUInt32LE(SQE_NSID) }),
        cdw10: sqe.readUInt32LE(SQE_CDW10),
        cdw11: sqe.readUInt32LE(SQE_CDW11),
        cdw12: sqe.readUInt32LE(SQE_CDW12),
        ...(lba
          ? { slba: readU64(sqe, IO_SLBA), nlb: (sqe.readUInt32LE(SQE_CDW12) & IO_NLB_MASK) + 1 }
          : {}),
        sct,
        sc,
      },
      'command',
    );
  }

  /** Marks `p` done; false when it already had its outcome (timed out or failed first). */
  private finish(p: Pending): boolean {
    this.untrack(p);
    const first = !p.settled;
    p.settled = true;
    if (this.failure === undefined) {
      while (this.waiting.length > 0 && this.outstanding.size < this.maxOutstanding) {
        this.start(this.waiting.shift()!);
      }
    }
    return first;
  }

  /**
   * Checks deadlines; called by the controller's timer. A command past its deadline fails with a
   * timeout error and the controller is told to reset (Linux nvme_tcp_timeout does the same).
   */
  checkTimeouts(now: number): void {
    // Deadlines differ per command (Keep Alive uses KATO), so every entry is looked at; a queue
    // holds at most its depth of them.
    for (const p of this.outstanding.values()) {
      if (p.deadline > now || p.settled) continue;
      p.settled = true;
      this.untrack(p);
      this.log.warn(
        { qid: this.qid, what: String(p.what), timeoutMs: p.timeoutMs },
        'command timeout',
      );
      p.done(commandTimeoutError(p.what, p.timeoutMs));
      this.reportFault(`${String(p.what)} timed out after ${p.timeoutMs} ms`);
    }
  }

  /**
   * Fails everything not yet complete with a connection-lost error and refuses new commands.
   * Commands already in the HostQueue are settled here, so nothing waits for the socket to die.
   */
  fail(reason: string): void {
    if (this.failure === undefined) this.failure = reason;
    const all = [...this.outstanding.drain(), ...this.waiting.splice(0)];
    for (const p of all) {
      p.tag = -1;
      if (p.settled) continue;
      p.settled = true;
      p.done(connectionLostError(p.what, reason));
    }
    this.reportFault(reason);
  }

  /** Takes `p` out of the outstanding table, once. */
  private untrack(p: Pending): void {
    if (p.tag < 0) return;
    this.outstanding.release(p.tag);
    p.tag = -1;
  }

  private reportFault(reason: string): void {
    if (this.faultReported) return;
    this.faultReported = true;
    this.onFault(reason);
  }

  /** Closes the connection without reporting a fault (an orderly teardown by the controller). */
  close(reason = 'queue closed by the host'): void {
    this.faultReported = true;
    this.fail(reason);
    this.queue.close();
  }
}
