/**
 * One exported bdev and what the server tells clients about it: its block size constraints
 * (proto.md "Block size constraints") and its transmission flags (proto.md "Transmission flags").
 */
import type { Bdev } from '../../bdev/bdev.js';
import type { BlockSizeConstraints } from './handshake-codec.js';
import {
  DEFAULT_PREFERRED_BLOCK_SIZE,
  INTEROPERABLE_MAXIMUM_BLOCK_SIZE,
  MAX_MINIMUM_BLOCK_SIZE,
  MAX_STRING_LENGTH,
  TransmissionFlag,
} from './protocol.js';

export interface NbdExportConfig {
  /** Export name clients ask for; the first export is also the default (empty name). */
  name: string;
  bdev: Bdev;
  /** Shown by `nbdinfo` and in NBD_OPT_LIST replies. */
  description?: string;
  /** Advertise NBD_FLAG_READ_ONLY and fail writes with EPERM. */
  readOnly?: boolean;
  /**
   * The bdev's writeZeroes is faster than writing zeroes (it drops or unmaps blocks, as a sparse
   * memory bdev or a file punching holes does). Without it a FAST_ZERO request fails at once with
   * ENOTSUP, as proto.md asks of a server that cannot tell in advance.
   */
  fastZero?: boolean;
}

/** Resolved export: the config plus what the handshake advertises. */
export interface NbdExport extends NbdExportConfig {
  /** Size in bytes. */
  size: number;
  constraints: BlockSizeConstraints;
}

/**
 * Minimum = the bdev's block size, so the server never has to read-modify-write; preferred =
 * 4 KiB or the block size if larger; maximum = 32 MiB, the largest request proto.md says must
 * never be treated as a denial of service, and a multiple of any power-of-2 minimum.
 */
export function blockSizeConstraints(bdev: Bdev): BlockSizeConstraints {
  return {
    minimum: bdev.blockSize,
    preferred: Math.max(DEFAULT_PREFERRED_BLOCK_SIZE, bdev.blockSize),
    maximum: INTEROPERABLE_MAXIMUM_BLOCK_SIZE,
  };
}

export function resolveExports(configs: readonly NbdExportConfig[]): NbdExport[] {
  if (configs.length === 0) throw new RangeError('an NBD server needs at least one export');
  const seen = new Set<string>();
  return configs.map((c) => {
    if (seen.has(c.name)) throw new RangeError(`NBD export name "${c.name}" is used twice`);
    seen.add(c.name);
    if (Buffer.byteLength(c.name) > MAX_STRING_LENGTH) {
      throw new RangeError(`NBD export name is longer than ${MAX_STRING_LENGTH} bytes`);
    }
    const bs = c.bdev.blockSize;
    // proto.md: the minimum block size MUST be a power of 2 no larger than 2^16.
    if (!Number.isInteger(bs) || bs < 1 || bs > MAX_MINIMUM_BLOCK_SIZE || (bs & (bs - 1)) !== 0) {
      throw new RangeError(
        `bdev ${c.bdev.name} has block size ${bs}; NBD needs a power of 2 up to ${MAX_MINIMUM_BLOCK_SIZE}`,
      );
    }
    return { ...c, size: c.bdev.blockCount * bs, constraints: blockSizeConstraints(c.bdev) };
  });
}

/**
 * Transmission flags of an export. DF is only set once structured replies are negotiated
 * (proto.md: the server "MUST leave this flag clear if structured replies have not been
 * negotiated"); every read is answered with one content chunk, so DF costs nothing.
 * CAN_MULTI_CONN holds because all connections share the one bdev and no per-connection cache.
 */
export function transmissionFlags(exp: NbdExport, structuredReplies: boolean): number {
  let flags =
    TransmissionFlag.HasFlags |
    TransmissionFlag.SendFlush |
    TransmissionFlag.SendFua |
    TransmissionFlag.SendCache |
    TransmissionFlag.CanMultiConn;
  if (exp.readOnly) flags |= TransmissionFlag.ReadOnly;
  else {
    flags |=
      TransmissionFlag.SendTrim | TransmissionFlag.SendWriteZeroes | TransmissionFlag.SendFastZero;
  }
  if (structuredReplies) flags |= TransmissionFlag.SendDf;
  return flags;
}
