/**
 * An NBD client that is itself a bdev (DESIGN.md: every ioengine drives a bdev): nvmf-bench's
 * nbd ioengine and the tests use it to reach any NBD server, this project's or nbdkit/qemu-nbd.
 * Requests are pipelined on one connection and matched to replies by handle; NBD errors become
 * NvmeStatusErrors (`nbdErrnoToStatus`) so that layers above see one error vocabulary. The
 * transmission phase (requests out, replies in, built for latency) is ClientTransmission; the
 * connection and handshake are clientConnect's, which lands every socket read in one reused
 * receive buffer (Node's `onread`).
 */
import type net from 'node:net';
import type { Logger } from 'pino';
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
import { clientConnect, type ClientConnectOptions } from './client-connect.js';
import type { NegotiatedExport } from './client-handshake.js';
import { ClientTransmission } from './client-transmission.js';
import { NbdProtocolError } from './nbd-error.js';
import type { IoCompletion, ReplyResult } from './pending-request.js';
import {
  CommandFlag,
  INTEROPERABLE_MAXIMUM_BLOCK_SIZE,
  MIN_PREFERRED_BLOCK_SIZE,
  NbdCommand,
  TransmissionFlag,
} from './protocol.js';

export interface NbdClientOptions extends ClientConnectOptions {
  /** Bdev name; defaults to the URI. */
  name?: string;
}

/** proto.md: a maximum block size of 0xffffffff means "no inherent limit"; also the u32 cap. */
const U32_MAX = 0xffffffff;

export class NbdClient implements Bdev {
  readonly name: string;
  readonly blockSize: number;
  readonly blockCount: number;
  readonly stats = new BdevStats();
  /** What the handshake negotiated (size, transmission flags, block sizes, contexts). */
  readonly negotiated: NegotiatedExport;
  /** Largest request length sent: the export's maximum (at most 32 MiB), in whole blocks. */
  readonly maxRequestBytes: number;
  /** Requests out, replies in, on this connection. */
  private readonly tx: ClientTransmission;

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
    this.tx = new ClientTransmission(socket, name, this.stats, negotiated.baseAllocationId, log);
  }

  /** Connects and negotiates `nbd://host[:port]/export` or `nbd+unix:///export?socket=PATH`. */
  static connect(uri: string, opts: NbdClientOptions = {}): Promise<NbdClient> {
    return clientConnect(uri, opts, (socket, negotiated, log) => {
      const client = new NbdClient(socket, negotiated, opts.name ?? uri, log);
      return { client, tx: client.tx };
    });
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
        this.tx.send(
          NbdCommand.Read,
          0,
          lba * this.blockSize,
          length,
          undefined,
          done,
          reject,
          into,
        );
      });
    }
    return this.readSplit(lba, blocks, into);
  }

  /**
   * fio's queue/complete style for a caller that keeps many reads in flight and reuses its
   * buffers (nvmf-bench's queue slots): reads `into.length` bytes at `lba` into `into` and calls
   * `completion.ioDone` once done — never during this call. No promise, closure or result object
   * per read. A bad range or buffer throws here (a caller's bug, not an I/O error).
   */
  queueRead(lba: number, into: Buffer, completion: IoCompletion): void {
    const length = into.length;
    if (length % this.blockSize !== 0) {
      throw new RangeError(`${this.name}: a read of ${length} bytes is not whole blocks`);
    }
    const blocks = length / this.blockSize;
    checkRange(this, lba, blocks);
    if (length > 0 && length <= this.maxRequestBytes) {
      this.tx.queue(NbdCommand.Read, 0, lba * this.blockSize, length, undefined, into, completion);
    } else {
      this.readSplit(lba, blocks, into).then(
        () => completion.ioDone(undefined),
        (err: Error) => completion.ioDone(err),
      );
    }
  }

  /** queueRead's counterpart: writes `data` at `lba`, then calls `completion.ioDone`. */
  queueWrite(lba: number, data: Buffer, completion: IoCompletion): void {
    checkRange(this, lba, blocksOf(this, data));
    if (data.length > 0 && data.length <= this.maxRequestBytes) {
      this.tx.queue(
        NbdCommand.Write,
        0,
        lba * this.blockSize,
        data.length,
        data,
        undefined,
        completion,
      );
    } else {
      this.writeSplit(lba, data, {}, false).then(
        () => completion.ioDone(undefined),
        (err: Error) => completion.ioDone(err),
      );
    }
  }

  /** A read beyond one request: the parts are read into one buffer. */
  private async readSplit(lba: number, blocks: number, into?: Buffer): Promise<Buffer> {
    const out = into ?? Buffer.allocUnsafe(blocks * this.blockSize);
    const base = lba * this.blockSize;
    await Promise.all(
      this.split(lba, blocks).map(([o, n]) =>
        this.tx.request(NbdCommand.Read, 0, o, n, undefined, out.subarray(o - base, o - base + n)),
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
        this.tx.send(
          NbdCommand.Write,
          flags,
          lba * this.blockSize,
          data.length,
          data,
          done,
          reject,
        );
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
        this.tx.request(
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
    if (this.has(TransmissionFlag.SendFlush)) await this.tx.request(NbdCommand.Flush, 0, 0, 0);
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
      const { descriptors } = await this.tx.request(
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
    if (!this.tx.open) return;
    await this.tx.drained();
    await this.flush().catch((err) => this.log.debug({ err }, 'flush before close failed'));
    if (!this.tx.open) return;
    this.tx.disconnect();
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
      await Promise.all(ranges.map(([o, n]) => this.tx.request(NbdCommand.WriteZeroes, 0, o, n)));
    } else {
      for (const [o, n] of ranges)
        await this.tx.request(NbdCommand.Write, 0, o, n, Buffer.alloc(n));
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
}
