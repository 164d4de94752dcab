/**
 * Transmission requests on the server: every request is validated once, before the bdev is
 * touched (nbdkit server/protocol.c `validate_request`): command, flags, read-only, range, zero
 * length, alignment to the minimum block size, maximum length, negotiated features. A bad request
 * or a bdev failure becomes that request's error reply (`toNbdErrno`); the connection lives on.
 * A request's outcome is written into the connection's ReplyBatch: headers encoded in place, READ
 * data sent as its own buffer.
 */
import type { BlockStatusExtent } from '../../bdev/bdev.js';
import { NbdError, toNbdErrno, nbdErrnoName } from './nbd-error.js';
import type { NbdExport } from './nbd-export.js';
import { BASE_ALLOCATION_CONTEXT_ID } from './option-negotiator.js';
import {
  AllocationState,
  CommandFlag,
  NbdCommand,
  NbdErrno,
  ReplyFlag,
  SIMPLE_REPLY_SIZE,
} from './protocol.js';
import type { ReplyBatch } from './reply-batch.js';
import {
  OFFSET_DATA_HEADER_SIZE,
  encodeBlockStatusChunk,
  encodeErrorChunk,
  encodeSimpleReply,
  writeOffsetDataHeader,
  writeSimpleReply,
  type BlockDescriptor,
  type RequestHeader,
  commandName,
} from './transmission-codec.js';

export interface TransmissionContext {
  export: NbdExport;
  structuredReplies: boolean;
  /** base:allocation was selected for this export (BLOCK_STATUS allowed). */
  baseAllocation: boolean;
}

export interface NbdRequest extends RequestHeader {
  handle: Buffer;
  /** WRITE data (empty for other commands). */
  data: Buffer;
}

const KNOWN_FLAGS =
  CommandFlag.Fua | CommandFlag.NoHole | CommandFlag.Df | CommandFlag.ReqOne | CommandFlag.FastZero;

/** The one command each flag other than FUA belongs to (proto.md "Command flags"). */
const FLAG_COMMAND: readonly [CommandFlag, NbdCommand][] = [
  [CommandFlag.NoHole, NbdCommand.WriteZeroes],
  [CommandFlag.FastZero, NbdCommand.WriteZeroes],
  [CommandFlag.Df, NbdCommand.Read],
  [CommandFlag.ReqOne, NbdCommand.BlockStatus],
];

const KNOWN_COMMANDS = new Set<number>([
  NbdCommand.Read,
  NbdCommand.Write,
  NbdCommand.Disc,
  NbdCommand.Flush,
  NbdCommand.Trim,
  NbdCommand.Cache,
  NbdCommand.WriteZeroes,
  NbdCommand.BlockStatus,
]);
const WRITES = new Set<number>([NbdCommand.Write, NbdCommand.Trim, NbdCommand.WriteZeroes]);
const RANGED = new Set<number>([
  NbdCommand.Read,
  NbdCommand.Write,
  NbdCommand.Trim,
  NbdCommand.Cache,
  NbdCommand.WriteZeroes,
  NbdCommand.BlockStatus,
]);

/** Size of the zero buffers a NO_HOLE write-zeroes writes, one at a time. */
const ZERO_WRITE_CHUNK = 1024 * 1024;
const U32_MAX = 0xffffffff;

const fail = (errno: NbdErrno, req: RequestHeader, why: string) =>
  new NbdError(errno, `${commandName(req.type)} offset=${req.offset} length=${req.length}: ${why}`);

/** Throws the NbdError a request deserves, or returns when the bdev may be called. */
export function validateRequest(req: RequestHeader, ctx: TransmissionContext): void {
  const exp = ctx.export;
  const { minimum, maximum } = exp.constraints;
  if (!KNOWN_COMMANDS.has(req.type)) throw fail(NbdErrno.EINVAL, req, 'unknown command');
  if (req.flags & ~KNOWN_FLAGS)
    throw fail(NbdErrno.EINVAL, req, `unknown flags 0x${req.flags.toString(16)}`);
  for (const [flag, cmd] of FLAG_COMMAND) {
    if (req.flags & flag && req.type !== cmd) {
      throw fail(NbdErrno.EINVAL, req, `flag 0x${flag.toString(16)} is not valid for this command`);
    }
  }
  // proto.md: DF "MUST NOT be set unless the transmission flags include NBD_FLAG_SEND_DF".
  if (req.flags & CommandFlag.Df && !ctx.structuredReplies) {
    throw fail(NbdErrno.EINVAL, req, 'DF needs structured replies');
  }
  if (exp.readOnly && WRITES.has(req.type)) throw fail(NbdErrno.EPERM, req, 'export is read-only');
  if (req.type === NbdCommand.Flush && (req.offset !== 0 || req.length !== 0)) {
    throw fail(NbdErrno.EINVAL, req, 'FLUSH offset and length must be zero');
  }
  if (!RANGED.has(req.type)) return;
  if (req.length === 0) throw fail(NbdErrno.EINVAL, req, 'zero length');
  if (!Number.isSafeInteger(req.offset) || req.offset + req.length > exp.size) {
    // proto.md "Error values": ENOSPC for writes beyond the end, EINVAL for the rest.
    const errno =
      req.type === NbdCommand.Write || req.type === NbdCommand.WriteZeroes
        ? NbdErrno.ENOSPC
        : NbdErrno.EINVAL;
    throw fail(errno, req, `beyond the export size ${exp.size}`);
  }
  // BLOCK_STATUS length is a hint (proto.md "Metadata querying"); it is rounded up instead.
  if (req.offset % minimum !== 0 || (req.type !== NbdCommand.BlockStatus && req.length % minimum)) {
    throw fail(NbdErrno.EINVAL, req, `not aligned to the minimum block size ${minimum}`);
  }
  const limited =
    req.type === NbdCommand.Read ||
    req.type === NbdCommand.Write ||
    req.type === NbdCommand.Cache ||
    (req.type === NbdCommand.WriteZeroes && !(req.flags & CommandFlag.FastZero));
  if (limited && req.length > maximum) {
    throw fail(NbdErrno.EINVAL, req, `longer than the maximum block size ${maximum}`);
  }
  if (req.type === NbdCommand.BlockStatus && !(ctx.structuredReplies && ctx.baseAllocation)) {
    throw fail(NbdErrno.EINVAL, req, 'no metadata context was negotiated');
  }
}

/** A reply encoded whole before it is sent (BLOCK_STATUS): it goes out as it is. */
export class EncodedReply {
  constructor(readonly bytes: Buffer) {}
}

/**
 * What a request that succeeded answers with: READ data, an encoded reply, or undefined for a
 * status-only success.
 */
export type RequestResult = Buffer | EncodedReply | undefined;

/**
 * Performs a validated request. READ and WRITE, the data path, hand the bdev's own promise on
 * (no async wrapper of their own); the rest run in `executeOther`.
 */
export function executeRequest(req: NbdRequest, ctx: TransmissionContext): Promise<RequestResult> {
  const { bdev } = ctx.export;
  const bs = bdev.blockSize;
  switch (req.type) {
    case NbdCommand.Read:
      return bdev.read(req.offset / bs, req.length / bs);
    case NbdCommand.Write:
      return bdev.write(req.offset / bs, req.data, {
        fua: (req.flags & CommandFlag.Fua) !== 0,
      }) as Promise<undefined>;
    default:
      return executeOther(req, ctx);
  }
}

/** Writes the successful reply of `req` into `out`. */
export function writeReply(
  out: ReplyBatch,
  req: RequestHeader & { handle: Buffer },
  ctx: TransmissionContext,
  result: RequestResult,
): void {
  if (result instanceof EncodedReply) {
    out.data(result.bytes);
  } else if (result !== undefined && ctx.structuredReplies) {
    // One content chunk, marked final: the data is all in hand, so no error can follow it.
    const at = out.reserve(OFFSET_DATA_HEADER_SIZE);
    writeOffsetDataHeader(out.buf, at, req.handle, ReplyFlag.Done, req.offset, result.length);
    out.data(result);
  } else {
    // Structured replies or not, a status-only success may be a simple reply (proto.md
    // "Structured reply chunk message"); READ data follows a simple reply's header.
    const at = out.reserve(SIMPLE_REPLY_SIZE);
    writeSimpleReply(out.buf, at, req.handle, NbdErrno.Ok);
    if (result !== undefined) out.data(result);
  }
}

async function executeOther(req: NbdRequest, ctx: TransmissionContext): Promise<RequestResult> {
  const { bdev } = ctx.export;
  const bs = bdev.blockSize;
  const lba = req.offset / bs;
  const blocks = req.length / bs;
  const fua = (req.flags & CommandFlag.Fua) !== 0;
  switch (req.type) {
    case NbdCommand.Flush:
      await bdev.flush();
      break;
    case NbdCommand.Trim:
      await bdev.deallocate([{ lba, blocks }]);
      if (fua) await bdev.flush();
      break;
    case NbdCommand.Cache:
      // proto.md allows "performing the actions of NBD_CMD_READ but replying with just status":
      // the read warms whatever the bdevs below cache (a remote bdev's target, a file's pages).
      await bdev.read(lba, blocks);
      break;
    case NbdCommand.WriteZeroes:
      await writeZeroes(req, ctx, lba, blocks);
      if (fua) await bdev.flush();
      break;
    case NbdCommand.BlockStatus: {
      // Round the hinted length up to whole blocks, within the export and a u32 descriptor.
      let count = Math.ceil(req.length / bs);
      if (count * bs > U32_MAX) count = Math.floor(U32_MAX / bs);
      const extents = bdev.blockStatus
        ? await bdev.blockStatus(lba, count)
        : [{ blocks: count, state: 'data' as const }];
      let descriptors = toDescriptors(extents, bs);
      if (req.flags & CommandFlag.ReqOne) {
        // proto.md: exactly one descriptor, not longer than the request.
        descriptors = [{ ...descriptors[0], length: Math.min(descriptors[0].length, req.length) }];
      }
      return new EncodedReply(
        encodeBlockStatusChunk(req.handle, BASE_ALLOCATION_CONTEXT_ID, descriptors),
      );
    }
  }
  return undefined;
}

async function writeZeroes(
  req: NbdRequest,
  ctx: TransmissionContext,
  lba: number,
  blocks: number,
): Promise<void> {
  const { bdev, fastZero } = ctx.export;
  const noHole = (req.flags & CommandFlag.NoHole) !== 0;
  if (req.flags & CommandFlag.FastZero && (noHole || !fastZero)) {
    // proto.md: fail fast with ENOTSUP, without altering the export, unless zeroing is faster
    // than writing; writing zero buffers (NO_HOLE) never is.
    throw fail(NbdErrno.ENOTSUP, req, 'zeroing is not faster than writing on this export');
  }
  if (!noHole) return bdev.writeZeroes(lba, blocks);
  // NO_HOLE: the area must end up allocated, which only a write of zeroes guarantees.
  const per = Math.max(1, Math.floor(ZERO_WRITE_CHUNK / bdev.blockSize));
  for (let done = 0; done < blocks; done += per) {
    const n = Math.min(per, blocks - done);
    await bdev.write(lba + done, Buffer.alloc(n * bdev.blockSize));
  }
}

/** base:allocation descriptors: hole = HOLE|ZERO, known zero = ZERO, data = 0; runs merged. */
export function toDescriptors(
  extents: readonly BlockStatusExtent[],
  blockSize: number,
): BlockDescriptor[] {
  const out: BlockDescriptor[] = [];
  for (const e of extents) {
    if (e.blocks <= 0) continue;
    const flags =
      e.state === 'hole'
        ? AllocationState.Hole | AllocationState.Zero
        : e.state === 'zero'
          ? AllocationState.Zero
          : 0;
    const last = out[out.length - 1];
    if (last && last.flags === flags) last.length += e.blocks * blockSize;
    else out.push({ length: e.blocks * blockSize, flags });
  }
  if (out.length === 0) throw new NbdError(NbdErrno.EIO, 'bdev returned no block status extents');
  return out;
}

/** The reply for a failed request: an error chunk with a message once structured replies are on. */
export function errorReply(
  req: RequestHeader & { handle: Buffer },
  ctx: TransmissionContext,
  err: unknown,
): Buffer[] {
  const errno = toNbdErrno(err, req.flags);
  if (ctx.structuredReplies) {
    const why = err instanceof Error ? err.message : String(err);
    return [encodeErrorChunk(req.handle, errno, why || nbdErrnoName(errno))];
  }
  // Simple reply: on error no READ payload follows (proto.md "Simple reply message").
  return [encodeSimpleReply(req.handle, errno)];
}
