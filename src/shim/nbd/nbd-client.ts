/**
 * An NBD client that is itself a bdev (DESIGN.md: every ioengine drives a bdev): nvmf-bench's
 * nbd ioengine and the tests use it to reach any NBD server, this project's or nbdkit/qemu-nbd.
 * Requests are pipelined on one connection and matched to replies by handle; NBD errors become
 * NvmeStatusErrors (`nbdErrnoToStatus`) so that layers above see one error vocabulary.
 *
 * The data path is built for latency the way libnbd's is, because nvmf-bench measures through
 * it and is compared with fio's libnbd engine: a request goes on the wire when it is issued
 * (header and payload as one corked pair, never held for the rest of the tick), and replies are
 * read into one reused receive buffer and copied straight to the request's destination
 * (ReplyReader) — no allocation per socket read and no per-reply views, strings or bigints, so
 * the garbage collector's pauses do not land in the measured latencies. Completions are handed
 * on one per microtask, in order: fio's nbd engine reaps one reply per nbd_poll() and queues the
 * next command before it reaps another, and a caller that resubmits on completion (nvmf-bench)
 * likewise gets its request on the wire before the next completion reaches it, instead of a
 * burst of completions followed by a burst of submissions.
 */
import net from 'node:net';
import pino, { type Logger } from 'pino';
import {
  BdevStats,
  blocksOf,
  checkRange,
  type Bdev,
  type BlockStatusExtent,
  type LbaRange,
  type WriteOptions,
} from '../../bdev/bdev.js';
import { bytesToBlockExtents } from './block-extents.js';
import { clientHandshake, type NegotiatedExport } from './client-handshake.js';
import { encodeOption } from './handshake-codec.js';
import { nbdConnectionLostError, nbdErrnoToStatus, NbdProtocolError } from './nbd-error.js';
import { FrameKind, NbdFramer, type Frame } from './nbd-framer.js';
import { parseNbdUri } from './nbd-uri.js';
import {
  PendingRequest,
  type Failure,
  type ReplyResult,
  type RequestOwner,
} from './pending-request.js';
import { ReplyReader } from './reply-reader.js';
import {
  CommandFlag,
  INTEROPERABLE_MAXIMUM_BLOCK_SIZE,
  MIN_PREFERRED_BLOCK_SIZE,
  NbdCommand,
  NbdOption,
  TransmissionFlag,
} from './protocol.js';
import { commandName, encodeRequestHeader } from './transmission-codec.js';

export interface NbdClientOptions {
  /** Bdev name; defaults to the URI. */
  name?: string;
  logger?: Logger;
  /** Time allowed for connecting and negotiating. */
  connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** proto.md: a maximum block size of 0xffffffff means "no inherent limit"; also the u32 cap. */
const U32_MAX = 0xffffffff;
/** Handshake replies are small; a larger one is a misbehaving server. */
const MAX_HANDSHAKE_PAYLOAD = 64 * 1024;
/** A non-data reply chunk (block status, error) is accepted up to this size. */
const MAX_REPLY_PAYLOAD = 2 * INTEROPERABLE_MAXIMUM_BLOCK_SIZE;
/**
 * The receive buffer every socket read lands in (Node's `onread`): reused, so reading costs no
 * allocation; large enough for a few 64 KiB replies per read at high queue depths.
 */
const RECEIVE_BUFFER_SIZE = 256 * 1024;
const WRITES = new Set<number>([NbdCommand.Write, NbdCommand.WriteZeroes, NbdCommand.Trim]);

/**
 * Queues a microtask: `RESOLVED.then(fn)` costs a reaction and a promise, where Node's
 * queueMicrotask adds an AsyncResource and a bound function per call — per completion here.
 */
const RESOLVED = Promise.resolve();

/** How a request is named in errors; built only when one occurs. */
const describe = (type: NbdCommand, offset: number, length: number, name: string): string =>
  `NBD ${commandName(type)} ${offset}+${length} on ${name}`;

export class NbdClient implements Bdev {
  readonly name: string;
  readonly blockSize: number;
  readonly blockCount: number;
  readonly stats = new BdevStats();
  /** What the handshake negotiated (size, transmission flags, block sizes, contexts). */
  readonly negotiated: NegotiatedExport;
  /** Largest request length sent: the export's maximum (at most 32 MiB), in whole blocks. */
  readonly maxRequestBytes: number;
  private readonly pending = new Map<number, PendingRequest>();
  /** Cuts replies out of received bytes (the transmission phase). */
  private readonly reader: ReplyReader;
  /** Request handles: a counter, safe as a number for 2^53 requests. */
  private nextHandle = 1;
  /** Settled requests waiting to be delivered, in reply order; `delivered` is the next one. */
  private readonly completed: PendingRequest[] = [];
  private delivered = 0;
  /** What every request of this client reports to (PendingRequest's owner). */
  private readonly owner: RequestOwner = {
    settled: (p) => {
      if (this.completed.push(p) === 1) void RESOLVED.then(this.deliverNext);
    },
    failure: (p, f) => {
      this.stats.errors++;
      if (f instanceof Error) return f;
      const what = describe(p.type, p.offset, p.length, this.name);
      const err = nbdErrnoToStatus(f.errno, what, WRITES.has(p.type));
      if (f.message) err.message += ` (${f.message})`;
      return err;
    },
  };
  /**
   * Delivers one completion, then queues the next behind the microtask its caller's continuation
   * was just queued as (a promise resolved with a plain value resumes its awaiter in one tick).
   */
  private readonly deliverNext = (): void => {
    this.completed[this.delivered++].deliver();
    if (this.delivered < this.completed.length) void RESOLVED.then(this.deliverNext);
    else {
      this.completed.length = 0;
      this.delivered = 0;
    }
  };
  /** Why no more requests can be sent; undefined while the connection is usable. */
  private closedBy: string | undefined;
  private idle: (() => void) | undefined;

  private constructor(
    private readonly socket: net.Socket,
    negotiated: NegotiatedExport,
    name: string,
    private readonly log: Logger,
  ) {
    this.negotiated = negotiated;
    this.name = name;
    // The export's minimum block size, never below 512 (proto.md lets a client be stricter).
    this.blockSize = Math.max(negotiated.constraints?.minimum ?? 0, MIN_PREFERRED_BLOCK_SIZE);
    this.blockCount = Math.floor(negotiated.size / this.blockSize);
    const max = Math.min(
      negotiated.constraints?.maximum ?? U32_MAX,
      INTEROPERABLE_MAXIMUM_BLOCK_SIZE,
    );
    this.maxRequestBytes = Math.max(this.blockSize, max - (max % this.blockSize));
    this.reader = new ReplyReader(
      { pendingFor: (h) => this.pendingFor(h), settled: (h) => this.settled(h) },
      MAX_REPLY_PAYLOAD,
    );
  }

  /** Connects and negotiates `nbd://host[:port]/export` or `nbd+unix:///export?socket=PATH`. */
  static async connect(uri: string, opts: NbdClientOptions = {}): Promise<NbdClient> {
    const target = parseNbdUri(uri);
    const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'nbd-client', uri });
    // Every read lands in one reused buffer; `onBytes` must copy what it keeps.
    const onread = {
      buffer: Buffer.allocUnsafe(RECEIVE_BUFFER_SIZE),
      callback: (n: number, buf: Buffer): boolean => {
        onBytes(buf, n);
        return true;
      },
    };
    const socket =
      target.kind === 'tcp'
        ? net.connect({ host: target.host, port: target.port, noDelay: true, onread })
        : net.connect({ path: target.path, onread });
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(
        new NbdProtocolError('NBD_ERR_CONNECTION', `${uri}: no handshake within ${timeoutMs} ms`),
      ),
    );

    // Frames go to the handshake until the client exists, then to the client.
    let client: NbdClient | undefined;
    const frames: Frame[] = [];
    let waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void } | undefined;
    let failure: Error | undefined;
    const fail = (err: Error) => {
      failure ??= err;
      waiter?.reject(failure);
      waiter = undefined;
    };
    // The handshake's framer keeps views of what it is given, so it gets copies (few, small).
    const framer = new NbdFramer(FrameKind.Greeting, { maxPayload: MAX_HANDSHAKE_PAYLOAD });
    const onBytes = (buf: Buffer, n: number): void => {
      try {
        if (client) {
          client.reader.push(buf, 0, n);
          return;
        }
        framer.push(Buffer.from(buf.subarray(0, n)), (f) => {
          if (waiter) {
            waiter.resolve(f);
            waiter = undefined;
          } else frames.push(f);
        });
      } catch (err) {
        if (client) client.abort(err as Error);
        else socket.destroy(err as Error);
      }
    };
    socket.on('error', (err) => (client ? client.abort(err) : fail(err)));
    socket.on('close', () => {
      const why = `${uri}: connection closed`;
      if (client) client.abort(new NbdProtocolError('NBD_ERR_CONNECTION', why));
      else fail(new NbdProtocolError('NBD_ERR_CONNECTION', `${why} during the handshake`));
    });

    try {
      const negotiated = await clientHandshake(
        {
          expect: (kind) => (framer.expect = kind),
          send: (b) => void socket.write(b),
          next: () => {
            const f = frames.shift();
            if (f) return Promise.resolve(f);
            if (failure) return Promise.reject(failure);
            return new Promise((resolve, reject) => (waiter = { resolve, reject }));
          },
        },
        target.exportName,
      );
      socket.setTimeout(0);
      // proto.md: the server sends nothing in transmission until asked.
      if (frames.length > 0 || framer.pending > 0) {
        throw new NbdProtocolError(
          'NBD_ERR_UNEXPECTED_REPLY',
          `${uri}: data before any request, after the handshake`,
        );
      }
      client = new NbdClient(socket, negotiated, opts.name ?? uri, log);
      log.debug({ negotiated }, 'connected');
      return client;
    } catch (err) {
      // proto.md: a client giving up on negotiation the server answered uses a soft disconnect.
      if (
        err instanceof NbdProtocolError &&
        err.code === 'NBD_ERR_NEGOTIATION' &&
        !socket.destroyed
      ) {
        socket.end(encodeOption(NbdOption.Abort));
      } else socket.destroy();
      throw err;
    }
  }

  read(lba: number, blocks: number): Promise<Buffer> {
    return this.readInto(lba, blocks, undefined);
  }

  /**
   * Reads into `into` (exactly `blocks * blockSize` bytes) and resolves with it, as libnbd's
   * nbd_aio_pread fills the caller's buffer: a caller that reuses its buffers (nvmf-bench, like
   * fio with its io_u buffers) then allocates nothing per read. Without `into`, a new buffer.
   */
  readInto(lba: number, blocks: number, into: Buffer | undefined): Promise<Buffer> {
    const length = blocks * this.blockSize;
    try {
      checkRange(this, lba, blocks);
      if (into && into.length !== length) {
        throw new RangeError(`${this.name}: a read of ${length} bytes into ${into.length}`);
      }
    } catch (err) {
      return Promise.reject(err as Error); // an async function's behaviour: a bad range rejects
    }
    if (length > 0 && length <= this.maxRequestBytes) {
      // The common case, one request: no arrays, no async frame, no Promise.all.
      return new Promise<Buffer>((resolve, reject) => {
        const done = (r: ReplyResult): void => {
          this.stats.readOps++;
          this.stats.readBytes += length;
          resolve(r.data!);
        };
        this.send(NbdCommand.Read, 0, lba * this.blockSize, length, undefined, done, reject, into);
      });
    }
    return this.readSplit(lba, blocks, into);
  }

  /** A read beyond one request: the parts are read into one buffer. */
  private async readSplit(lba: number, blocks: number, into?: Buffer): Promise<Buffer> {
    const out = into ?? Buffer.allocUnsafe(blocks * this.blockSize);
    const base = lba * this.blockSize;
    await Promise.all(
      this.split(lba, blocks).map(([o, n]) =>
        this.request(NbdCommand.Read, 0, o, n, undefined, out.subarray(o - base, o - base + n)),
      ),
    );
    this.stats.readOps++;
    this.stats.readBytes += blocks * this.blockSize;
    return out;
  }

  write(lba: number, data: Buffer, opts: WriteOptions = {}): Promise<void> {
    let fua: boolean;
    try {
      checkRange(this, lba, blocksOf(this, data));
      fua = opts.fua === true && this.has(TransmissionFlag.SendFua);
    } catch (err) {
      return Promise.reject(err as Error); // an async function's behaviour: a bad range rejects
    }
    if (data.length > 0 && data.length <= this.maxRequestBytes && fua === (opts.fua === true)) {
      // The common case, one request: settles one tick after its reply is delivered.
      return new Promise<void>((resolve, reject) => {
        const done = (): void => {
          this.stats.writeOps++;
          this.stats.writeBytes += data.length;
          resolve();
        };
        const flags = fua ? CommandFlag.Fua : 0;
        this.send(NbdCommand.Write, flags, lba * this.blockSize, data.length, data, done, reject);
      });
    }
    return this.writeSplit(lba, data, opts, fua);
  }

  /** A write beyond one request, or FUA emulated by a flush. */
  private async writeSplit(
    lba: number,
    data: Buffer,
    opts: WriteOptions,
    fua: boolean,
  ): Promise<void> {
    const blocks = data.length / this.blockSize;
    const base = lba * this.blockSize;
    await Promise.all(
      this.split(lba, blocks).map(([o, n]) =>
        this.request(
          NbdCommand.Write,
          fua ? CommandFlag.Fua : 0,
          o,
          n,
          data.subarray(o - base, o - base + n),
        ),
      ),
    );
    // Without SEND_FUA, a flush gives the same durability.
    if (opts.fua && !fua) await this.flush();
    this.stats.writeOps++;
    this.stats.writeBytes += data.length;
  }

  async flush(): Promise<void> {
    if (this.has(TransmissionFlag.SendFlush)) await this.request(NbdCommand.Flush, 0, 0, 0);
    this.stats.flushOps++;
  }

  async writeZeroes(lba: number, blocks: number): Promise<void> {
    checkRange(this, lba, blocks);
    await this.zero(lba, blocks);
    this.stats.writeZeroesOps++;
  }

  /**
   * Deallocated blocks must read as zeroes (bdev.ts), which NBD_CMD_TRIM does not promise; a
   * WRITE_ZEROES without NO_HOLE does, and lets the server punch holes (proto.md).
   */
  async deallocate(ranges: readonly LbaRange[]): Promise<void> {
    for (const r of ranges) checkRange(this, r.lba, r.blocks);
    await Promise.all(ranges.map((r) => this.zero(r.lba, r.blocks)));
    this.stats.deallocateOps++;
  }

  /** base:allocation when negotiated; otherwise every block is reported as data. */
  async blockStatus(lba: number, blocks: number): Promise<BlockStatusExtent[]> {
    checkRange(this, lba, blocks);
    if (this.negotiated.baseAllocationId === undefined || blocks === 0) {
      return blocks === 0 ? [] : [{ blocks, state: 'data' }];
    }
    const end = (lba + blocks) * this.blockSize;
    // The length is a hint, limited only by its u32 field (not by the maximum block size).
    const maxHint = U32_MAX - (U32_MAX % this.blockSize);
    const runs: { length: number; flags: number }[] = [];
    for (let at = lba * this.blockSize; at < end;) {
      const { descriptors } = await this.request(
        NbdCommand.BlockStatus,
        0,
        at,
        Math.min(end - at, maxHint),
      );
      for (const d of descriptors!) {
        if (at >= end) break;
        if (d.length === 0) throw new NbdProtocolError('NBD_ERR_BAD_REPLY', 'zero-length extent');
        const length = Math.min(d.length, end - at);
        runs.push({ length, flags: d.flags });
        at += length;
      }
    }
    return bytesToBlockExtents(runs, this.blockSize);
  }

  /** Waits for in-flight requests, flushes, sends NBD_CMD_DISC and closes (a soft disconnect). */
  async close(): Promise<void> {
    if (this.closedBy) return;
    if (this.pending.size > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    await this.flush().catch((err) => this.log.debug({ err }, 'flush before close failed'));
    if (this.closedBy) return;
    const disc = {
      flags: 0,
      type: NbdCommand.Disc,
      handle: this.nextHandle++,
      offset: 0,
      length: 0,
    };
    this.transmit(encodeRequestHeader(disc), undefined);
    this.closedBy = 'closed by the client';
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  private has(flag: TransmissionFlag): boolean {
    return (this.negotiated.transmissionFlags & flag) !== 0;
  }

  private async zero(lba: number, blocks: number): Promise<void> {
    const ranges = this.split(lba, blocks);
    if (this.has(TransmissionFlag.SendWriteZeroes)) {
      await Promise.all(ranges.map(([o, n]) => this.request(NbdCommand.WriteZeroes, 0, o, n)));
    } else {
      for (const [o, n] of ranges) await this.request(NbdCommand.Write, 0, o, n, Buffer.alloc(n));
    }
  }

  /** [offset, length] byte ranges of at most maxRequestBytes covering the blocks. */
  private split(lba: number, blocks: number): [number, number][] {
    const out: [number, number][] = [];
    const end = (lba + blocks) * this.blockSize;
    for (let o = lba * this.blockSize; o < end; o += this.maxRequestBytes) {
      out.push([o, Math.min(this.maxRequestBytes, end - o)]);
    }
    return out;
  }

  private request(
    type: NbdCommand,
    flags: number,
    offset: number,
    length: number,
    data?: Buffer,
    into?: Buffer,
  ): Promise<ReplyResult> {
    return new Promise<ReplyResult>((resolve, reject) =>
      this.send(type, flags, offset, length, data, resolve, reject, into),
    );
  }

  /** Registers a request and puts it on the wire now; its reply settles it through the reader. */
  private send(
    type: NbdCommand,
    flags: number,
    offset: number,
    length: number,
    data: Buffer | undefined,
    resolve: (r: ReplyResult) => void,
    /** Receives Errors only: the owner's `failure` turns server errors into them. */
    reject: (e: Failure) => void,
    into?: Buffer,
  ): void {
    if (this.closedBy) {
      reject(nbdConnectionLostError(describe(type, offset, length, this.name), this.closedBy));
      return;
    }
    const handle = this.nextHandle++;
    this.pending.set(
      handle,
      new PendingRequest(
        type,
        offset,
        length,
        this.negotiated.baseAllocationId,
        resolve,
        reject,
        into,
        this.owner,
      ),
    );
    this.transmit(encodeRequestHeader({ flags, type, handle, offset, length }), data);
  }

  /**
   * Writes one request at once, as libnbd does when a command is issued: the header and any
   * payload as two buffers in one corked pair (one writev, no copy). Requests are not held back
   * to batch with others issued later in the tick: that wait would count in the latency
   * nvmf-bench measures from issue to completion (fio's clat).
   */
  private transmit(header: Buffer, data: Buffer | undefined): void {
    const s = this.socket;
    if (s.destroyed || !s.writable) return; // the close handler fails what is pending
    if (data && data.length > 0) {
      s.cork();
      s.write(header);
      s.write(data);
      s.uncork();
    } else s.write(header);
  }

  private pendingFor(handle: number): PendingRequest {
    const p = this.pending.get(handle);
    if (!p) {
      throw new NbdProtocolError('NBD_ERR_UNEXPECTED_REPLY', `reply for unknown handle ${handle}`);
    }
    return p;
  }

  private settled(handle: number): void {
    this.pending.delete(handle);
    if (this.pending.size === 0 && this.idle) {
      this.idle();
      this.idle = undefined;
    }
  }

  /** The connection is gone or unusable: every pending request fails as a lost connection. */
  private abort(err: Error): void {
    if (!this.closedBy) {
      this.closedBy = err.message;
      this.log.warn({ err }, 'NBD connection lost');
    }
    for (const [handle, p] of this.pending) {
      this.pending.delete(handle);
      p.lost(nbdConnectionLostError(`NBD ${commandName(p.type)} on ${this.name}`, this.closedBy));
    }
    this.idle?.();
    this.idle = undefined;
    this.socket.destroy();
  }
}
