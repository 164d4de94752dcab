/**
 * The bdev layer's public face, and the one parser of bdev specs shared by `nvmf-target --ns`,
 * configs and tests: `mem:SIZE[:BS]`, `null:SIZE[:BS]`, `file:PATH:SIZE[:BS][:io=MODE]` with
 * MODE one of FileIoMode (auto, sync, pool).
 */
import { type Bdev, parseSize } from './bdev.js';
import { SUPPORTED_BLOCK_SIZES } from './base-bdev.js';
import { FILE_IO_MODES, FileBdev, type FileIoMode } from './file-bdev.js';
import { MemoryBdev } from './memory-bdev.js';
import { NullBdev } from './null-bdev.js';

export * from './bdev.js';
export * from './base-bdev.js';
export * from './memory-bdev.js';
export * from './null-bdev.js';
export * from './file-bdev.js';
// The statuses a bdev raises, for the layers stacked on bdevs (they import the bdev layer only).
export {
  NvmeStatusError,
  StatusCodeType,
  GenericStatus,
  MediaStatus,
  PathStatus,
  internalError,
  invalidField,
  lbaOutOfRange,
} from '../nvme/status.js';

export const DEFAULT_BLOCK_SIZE = 512;

const SPEC_FORMS =
  'mem:SIZE[:BS], null:SIZE[:BS] or file:PATH:SIZE[:BS][:io=auto|sync|pool] with BS 512 or 4096';
/** The I/O mode field of a file spec: its last field, `io=MODE`. */
const IO_FIELD_RE = /^io=(.*)$/;

export type BdevSpec =
  | { kind: 'mem' | 'null'; size: number; blockSize: number }
  | { kind: 'file'; path: string; size: number; blockSize: number; io?: FileIoMode };

/** Parses a bdev spec; a bad one gets a RangeError of one sentence naming it and the forms expected. */
export function parseBdevSpec(spec: string): BdevSpec {
  const bad = (why: string): RangeError =>
    new RangeError(`bdev spec "${spec}" ${why}; expected ${SPEC_FORMS}`);
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const parts = colon < 0 ? [] : spec.slice(colon + 1).split(':');

  // A PATH may itself hold colons, so the I/O mode, size and block size are taken from the right.
  let io: FileIoMode | undefined;
  const ioField = kind === 'file' ? IO_FIELD_RE.exec(parts[parts.length - 1] ?? '') : null;
  if (ioField) {
    if (!FILE_IO_MODES.includes(ioField[1] as FileIoMode)) {
      throw bad(`has an I/O mode "${ioField[1]}" that is not one of ${FILE_IO_MODES.join(', ')}`);
    }
    io = ioField[1] as FileIoMode;
    parts.pop();
  }
  let blockSize = DEFAULT_BLOCK_SIZE;
  const last = parts[parts.length - 1];
  const minParts = kind === 'file' ? 3 : 2;
  if (parts.length >= minParts && last !== undefined && /^\d+$/.test(last)) {
    const bs = Number(last);
    if (SUPPORTED_BLOCK_SIZES.includes(bs)) {
      blockSize = bs;
      parts.pop();
    } else if (kind !== 'file' || isSize(parts[parts.length - 2])) {
      throw bad(`has block size ${last}`);
    }
  }
  const sizeText = parts.pop();
  if (sizeText === undefined || sizeText === '') throw bad('has no size');
  let size: number;
  try {
    size = parseSize(sizeText);
  } catch {
    throw bad(`has a size "${sizeText}" that is not a size`);
  }
  if (size <= 0 || size % blockSize !== 0) {
    throw bad(`has a size that is not a positive multiple of the ${blockSize}-byte block size`);
  }
  switch (kind) {
    case 'mem':
    case 'null':
      if (parts.length > 0) throw bad('has too many fields');
      return { kind, size, blockSize };
    case 'file': {
      const path = parts.join(':');
      if (path === '') throw bad('has no path');
      return io === undefined
        ? { kind, path, size, blockSize }
        : { kind, path, size, blockSize, io };
    }
    default:
      throw bad(`has an unknown kind "${kind}"`);
  }
}

function isSize(text: string | undefined): boolean {
  if (text === undefined) return false;
  try {
    parseSize(text);
    return true;
  } catch {
    return false;
  }
}

/** Builds the bdev a spec describes (see parseBdevSpec). */
export async function createBdevFromSpec(spec: string, name: string): Promise<Bdev> {
  const s = parseBdevSpec(spec);
  switch (s.kind) {
    case 'mem':
      return new MemoryBdev({ name, blockSize: s.blockSize, blockCount: s.size / s.blockSize });
    case 'null':
      return new NullBdev({ name, blockSize: s.blockSize, blockCount: s.size / s.blockSize });
    case 'file':
      return FileBdev.open({ name, path: s.path, blockSize: s.blockSize, size: s.size, io: s.io });
  }
}
