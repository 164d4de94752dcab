/**
 * A mirror's write-intent bitmap (Linux md "bitmap", SPDK raid1 lacks one): one bit per region per
 * leg, set when that leg misses a write to the region, cleared when resync has copied the region
 * to it. One bitfield (the `bitfield` package) per leg over one shared byte array.
 *
 * Persistence: `mark()` resolves only once the bits are on stable storage (pwrite of the changed
 * pages, then fdatasync), because the mirror acknowledges a write only after that; concurrent marks
 * share one write+sync round. Clears are written lazily with the next round or `persist()`: a bit
 * that survives a crash only costs one redundant region copy.
 *
 * File: a HEADER_BYTES header (below), then each leg's bitmap of `bytesPerLeg` bytes in leg order.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import BitField from 'bitfield';
import { internalError } from '../bdev/index.js';

/** Header fields (little endian) and their offsets. */
const MAGIC = Buffer.from('NVMFWIB1', 'latin1');
const MAGIC_OFFSET = 0;
const VERSION_OFFSET = 8;
const LEG_COUNT_OFFSET = 12;
const REGION_BLOCKS_OFFSET = 16;
const BLOCK_SIZE_OFFSET = 20;
const BLOCK_COUNT_OFFSET = 24;
const BYTES_PER_LEG_OFFSET = 32;
const FORMAT_VERSION = 1;
/** The header fills one page so that bitmap pages are page-aligned in the file. */
export const HEADER_BYTES = 4096;
/** Unit of bitmap rewrites: a changed bit rewrites its page only. */
export const BITMAP_PAGE_BYTES = 4096;
const BITS_PER_BYTE = 8;

export interface WriteIntentBitmapGeometry {
  legCount: number;
  regionBlocks: number;
  blockSize: number;
  /** Volume capacity in blocks; the last region may be short. */
  blockCount: number;
}

export class WriteIntentBitmap {
  readonly regionCount: number;
  private readonly bytesPerLeg: number;
  private readonly bits: Uint8Array;
  private readonly legs: BitField[];
  private readonly dirty: number[];
  /** Pages of `bits` changed since they were last written. */
  private readonly changedPages = new Set<number>();
  /** Bumped on every bit change; `persisted` is the generation last made durable. */
  private generation = 0;
  private persisted = 0;
  private round: Promise<void> | undefined;
  private rounds = 0;

  private constructor(
    readonly geometry: WriteIntentBitmapGeometry,
    private readonly handle: FileHandle | undefined,
    readonly path: string | undefined,
    bits?: Uint8Array,
  ) {
    this.regionCount = Math.ceil(geometry.blockCount / geometry.regionBlocks);
    this.bytesPerLeg = Math.ceil(this.regionCount / BITS_PER_BYTE);
    this.bits = bits ?? new Uint8Array(this.bytesPerLeg * geometry.legCount);
    this.legs = [];
    this.dirty = [];
    for (let leg = 0; leg < geometry.legCount; leg++) {
      const view = this.bits.subarray(leg * this.bytesPerLeg, (leg + 1) * this.bytesPerLeg);
      this.legs.push(new BitField(view));
      let n = 0;
      for (const byte of view) n += popcount(byte);
      this.dirty.push(n);
    }
  }

  /** An in-memory bitmap: marks resolve at once and a restart forgets them. */
  static inMemory(geometry: WriteIntentBitmapGeometry): WriteIntentBitmap {
    return new WriteIntentBitmap(geometry, undefined, undefined);
  }

  /**
   * Opens the bitmap file at `path`, creating it clean when absent. A file written for another
   * geometry is refused in one sentence rather than silently reinterpreted.
   */
  static async open(path: string, geometry: WriteIntentBitmapGeometry): Promise<WriteIntentBitmap> {
    const handle = await fsp.open(path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    try {
      const size = (await handle.stat()).size;
      const regionCount = Math.ceil(geometry.blockCount / geometry.regionBlocks);
      const bytesPerLeg = Math.ceil(regionCount / BITS_PER_BYTE);
      const bitsBytes = bytesPerLeg * geometry.legCount;
      if (size === 0) {
        const header = encodeHeader(geometry, bytesPerLeg);
        await handle.write(header, 0, header.length, 0);
        const zero = Buffer.alloc(bitsBytes);
        await handle.write(zero, 0, zero.length, HEADER_BYTES);
        await handle.sync();
        return new WriteIntentBitmap(geometry, handle, path);
      }
      const header = Buffer.alloc(HEADER_BYTES);
      await handle.read(header, 0, HEADER_BYTES, 0);
      checkHeader(path, header, geometry, bytesPerLeg, size);
      const bits = new Uint8Array(bitsBytes);
      await handle.read(bits, 0, bitsBytes, HEADER_BYTES);
      return new WriteIntentBitmap(geometry, handle, path, bits);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Region holding block `lba`. */
  regionOf(lba: number): number {
    return Math.floor(lba / this.geometry.regionBlocks);
  }

  isDirty(leg: number, region: number): boolean {
    return this.legs[leg].get(region);
  }

  /** How many regions `leg` must be resynced in. */
  dirtyRegions(leg: number): number {
    return this.dirty[leg];
  }

  /** First dirty region of `leg` at or after `from`, or -1. */
  nextDirty(leg: number, from = 0): number {
    const base = leg * this.bytesPerLeg;
    for (let r = from; r < this.regionCount;) {
      if (r % BITS_PER_BYTE === 0 && this.bits[base + r / BITS_PER_BYTE] === 0) {
        r += BITS_PER_BYTE;
        continue;
      }
      if (this.legs[leg].get(r)) return r;
      r++;
    }
    return -1;
  }

  /**
   * Marks regions [first, last] dirty for each of `legs`; resolves once that state is durable
   * (at once without a file). The bits are set before this returns, so resync sees them at once.
   */
  mark(legs: readonly number[], first: number, last: number): Promise<void> {
    for (const leg of legs) {
      for (let r = first; r <= last; r++) this.setBit(leg, r, true);
    }
    return this.durable();
  }

  /** Marks every region of `leg` dirty: it may have lost writes we cannot name (a failed flush). */
  markAll(leg: number): Promise<void> {
    return this.mark([leg], 0, this.regionCount - 1);
  }

  /** Clears one region of `leg` after resync copied it; written with the next persist round. */
  clear(leg: number, region: number): void {
    this.setBit(leg, region, false);
  }

  /** Writes out whatever changed (clears included) and syncs. */
  persist(): Promise<void> {
    return this.durable();
  }

  async close(): Promise<void> {
    if (!this.handle) return;
    try {
      await this.durable();
    } finally {
      await this.handle.close();
    }
  }

  private setBit(leg: number, region: number, value: boolean): void {
    const field = this.legs[leg];
    if (field.get(region) === value) return;
    field.set(region, value);
    this.dirty[leg] += value ? 1 : -1;
    this.generation++;
    const byte = leg * this.bytesPerLeg + Math.floor(region / BITS_PER_BYTE);
    this.changedPages.add(Math.floor(byte / BITMAP_PAGE_BYTES));
  }

  /** Resolves once everything changed up to now is on stable storage. */
  private async durable(): Promise<void> {
    if (!this.handle) return;
    const want = this.generation;
    while (this.persisted < want) {
      // One round at a time; marks made during a round ride on the next one.
      this.round ??= this.writeRound().finally(() => {
        this.round = undefined;
      });
      await this.round;
    }
  }

  /** Write+sync rounds done so far (each covers every mark made before it started). */
  get persistRounds(): number {
    return this.rounds;
  }

  private async writeRound(): Promise<void> {
    const handle = this.handle!;
    // Let the marks made in this same tick join the round.
    await Promise.resolve();
    this.rounds++;
    const gen = this.generation;
    const pages = [...this.changedPages];
    this.changedPages.clear();
    try {
      for (const page of pages) {
        const start = page * BITMAP_PAGE_BYTES;
        // A copy: bits may change while the write is in the thread pool.
        const snapshot = Buffer.from(this.bits.subarray(start, start + BITMAP_PAGE_BYTES));
        await handle.write(snapshot, 0, snapshot.length, HEADER_BYTES + start);
      }
      await handle.datasync();
      this.persisted = gen;
    } catch (err) {
      for (const page of pages) this.changedPages.add(page);
      throw internalError(`write-intent bitmap ${this.path}: ${(err as Error).message}`);
    }
  }
}

function encodeHeader(g: WriteIntentBitmapGeometry, bytesPerLeg: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, MAGIC_OFFSET);
  h.writeUInt32LE(FORMAT_VERSION, VERSION_OFFSET);
  h.writeUInt32LE(g.legCount, LEG_COUNT_OFFSET);
  h.writeUInt32LE(g.regionBlocks, REGION_BLOCKS_OFFSET);
  h.writeUInt32LE(g.blockSize, BLOCK_SIZE_OFFSET);
  h.writeBigUInt64LE(BigInt(g.blockCount), BLOCK_COUNT_OFFSET);
  h.writeUInt32LE(bytesPerLeg, BYTES_PER_LEG_OFFSET);
  return h;
}

function checkHeader(
  path: string,
  h: Buffer,
  g: WriteIntentBitmapGeometry,
  bytesPerLeg: number,
  fileSize: number,
): void {
  if (!h.subarray(MAGIC_OFFSET, MAGIC_OFFSET + MAGIC.length).equals(MAGIC)) {
    throw new RangeError(`${path} is not a write-intent bitmap file (bad magic)`);
  }
  const version = h.readUInt32LE(VERSION_OFFSET);
  if (version !== FORMAT_VERSION) {
    throw new RangeError(`${path} has bitmap format ${version}; expected ${FORMAT_VERSION}`);
  }
  const found = {
    legCount: h.readUInt32LE(LEG_COUNT_OFFSET),
    regionBlocks: h.readUInt32LE(REGION_BLOCKS_OFFSET),
    blockSize: h.readUInt32LE(BLOCK_SIZE_OFFSET),
    blockCount: Number(h.readBigUInt64LE(BLOCK_COUNT_OFFSET)),
  };
  if (
    found.legCount !== g.legCount ||
    found.regionBlocks !== g.regionBlocks ||
    found.blockSize !== g.blockSize ||
    found.blockCount !== g.blockCount
  ) {
    throw new RangeError(
      `${path} belongs to a mirror of ${describe(found)}, not this one of ${describe(g)}; ` +
        `remove it only if the legs are known to be identical`,
    );
  }
  if (
    h.readUInt32LE(BYTES_PER_LEG_OFFSET) !== bytesPerLeg ||
    fileSize < HEADER_BYTES + bytesPerLeg * g.legCount
  ) {
    throw new RangeError(`${path} is truncated or inconsistent with its header`);
  }
}

function describe(g: WriteIntentBitmapGeometry): string {
  return `${g.legCount} legs × ${g.blockCount} blocks of ${g.blockSize} B, ${g.regionBlocks}-block regions`;
}

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
}
