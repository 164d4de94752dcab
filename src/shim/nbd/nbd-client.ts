/**
 * An NBD client that is itself a bdev (DESIGN.md: every ioengine drives a bdev): nvmf-bench's
 * nbd ioengine and the tests use it to reach any NBD server, this project's or nbdkit/qemu-nbd.
 * Requests are pipelined on one connection and matched to replies by handle; NBD errors become
 * NvmeStatusErrors (`nbdErrnoToStatus`) so that layers above see one error vocabulary.
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
import { CorkedWriter } from './corked-writer.js';
import { nbdConnectionLostError, nbdErrnoToStatus, NbdProtocolError } from './nbd-error.js';
import { FrameKind, NbdFramer, type Frame } from './nbd-framer.js';
import { parseNbdUri } from './nbd-uri.js';
import { PendingRequest, type ReplyResult } from './pending-request.js';
import {
  CommandFlag,
  INTEROPERABLE_MAXIMUM_BLOCK_SIZE,
  MIN_PREFERRED_BLOCK_SIZE,
  NbdCommand,
  NbdOption,
  ReplyFlag,
  SIMPLE_REPLY_SIZE,
  TransmissionFlag,
} from './protocol.js';
import {
  commandName,
  decodeChunkHeader,
  decodeSimpleReply,
  encodeRequestHeader,
} from './transmission-codec.js';

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
/** A READ reply chunk carries at most one request's data plus its offset field. */
const MAX_REPLY_PAYLOAD = 2 * INTEROPERABLE_MAXIMUM_BLOCK_SIZE;
const WRITES = new Set<number>([NbdCommand.Write, NbdCommand.WriteZeroes, NbdCommand.Trim]);

export class NbdClient implements Bdev {
  readonly name: string;
  readonly blockSize: number;
  readonly blockCount: number;
  readonly stats = new BdevStats();
  /** What the handshake negotiated (size, transmission flags, block sizes, contexts). */
  readonly negotiated: NegotiatedExport;
  /** Largest request length sent: the export's maximum (at most 32 MiB), in whole blocks. */
  readonly maxRequestBytes: number;
  private readonly pending = new Map<bigint, PendingRequest>();
  private readonly writer: CorkedWriter;
  private nextHandle = 1n;
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
    this.writer = new CorkedWriter(socket);
  }

  /** Connects and negotiates `nbd://host[:port]/export` or `nbd+unix:///export?socket=PATH`. */
  static async connect(uri: string, opts: NbdClientOptions = {}): Promise<NbdClient> {
    const target = parseNbdUri(uri);
    const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'nbd-client', uri });
    const socket =
      target.kind === 'tcp'
        ? net.connect({ host: target.host, port: target.port, noDelay: true })
        : net.connect({ path: target.path });
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
    const framer = new NbdFramer(FrameKind.Greeting, {
      maxPayload: MAX_HANDSHAKE_PAYLOAD,
      simpleReplyDataLength: (handle, error) => client?.simpleReplyDataLength(handle, error) ?? 0,
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk, (f) => {
          if (client) client.onReply(f);
          else if (waiter) {
            waiter.resolve(f);
            waiter = undefined;
          } else frames.push(f);
        });
      } catch (err) {
        if (client) client.abort(err as Error);
        else socket.destroy(err as Error);
      }
    });
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
      framer.expect = FrameKind.Reply;
      framer.maxPayload = MAX_REPLY_PAYLOAD;
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

  async read(lba: number, blocks: number): Promise<Buffer> {
    checkRange(this, lba, blocks);
    const parts = await Promise.all(
      this.split(lba, blocks).map(([o, n]) => this.request(NbdCommand.Read, 0, o, n)),
    );
    this.stats.readOps++;
    this.stats.readBytes += blocks * this.blockSize;
    // Reads beyond one request are the only ones that need a copy to become one buffer.
    return parts.length === 1 ? parts[0].data! : Buffer.concat(parts.map((p) => p.data!));
  }

  async write(lba: number, data: Buffer, opts: WriteOptions = {}): Promise<void> {
    const blocks = blocksOf(this, data);
    checkRange(this, lba, blocks);
    const fua = opts.fua === true && this.has(TransmissionFlag.SendFua);
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
    this.writer.write([encodeRequestHeader(disc)]);
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
  ): Promise<ReplyResult> {
    const what = `NBD ${commandName(type)} ${offset}+${length} on ${this.name}`;
    if (this.closedBy) return Promise.reject(nbdConnectionLostError(what, this.closedBy));
    const handle = this.nextHandle++;
    return new Promise<ReplyResult>((resolve, reject) => {
      const onError = (e: { errno: number; message: string } | Error) => {
        this.stats.errors++;
        if (e instanceof Error) return reject(e);
        const err = nbdErrnoToStatus(e.errno, what, WRITES.has(type));
        if (e.message) err.message += ` (${e.message})`;
        reject(err);
      };
      this.pending.set(
        handle,
        new PendingRequest(
          type,
          offset,
          length,
          this.negotiated.baseAllocationId,
          resolve,
          onError,
        ),
      );
      const header = encodeRequestHeader({ flags, type, handle, offset, length });
      this.writer.write(data ? [header, data] : [header]);
    });
  }

  /** The framer's question: how much READ data follows this simple reply? */
  private simpleReplyDataLength(handle: bigint, error: number): number {
    const p = this.pending.get(handle);
    return p && p.type === NbdCommand.Read && error === 0 ? p.length : 0;
  }

  private onReply(frame: Frame): void {
    if (frame.header.length === SIMPLE_REPLY_SIZE) {
      const { error, handle } = decodeSimpleReply(frame.header);
      this.pendingFor(handle).simple(error, frame.payload);
      this.settled(handle);
      return;
    }
    const h = decodeChunkHeader(frame.header);
    if (this.pendingFor(h.handle).chunk(h, frame.payload, (h.flags & ReplyFlag.Done) !== 0)) {
      this.settled(h.handle);
    }
  }

  private pendingFor(handle: bigint): PendingRequest {
    const p = this.pending.get(handle);
    if (!p) {
      throw new NbdProtocolError('NBD_ERR_UNEXPECTED_REPLY', `reply for unknown handle ${handle}`);
    }
    return p;
  }

  private settled(handle: bigint): void {
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
