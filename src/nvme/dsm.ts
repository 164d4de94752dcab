/**
 * Dataset Management (NVM Command Set 1.0, 3.2.3): CDW10 NR bits 7:0 (number of ranges, 0-based),
 * CDW11 attributes IDR bit 0, IDW bit 1, AD bit 2 (deallocate); the data is NR+1 ranges of 16 bytes
 * (Figure 40).
 */
import { SQE_SIZE, decodeSqe, encodeSqe } from './sqe.js';
import { IoOpcode } from './opcodes.js';
import type { SglDescriptor } from './sgl.js';
import { need, readU64, writeU64 } from './codec.js';

export const DSM_RANGE_SIZE = 16;
export const DSM_RANGE_CONTEXT_ATTRIBUTES = 0; // u32 Context Attributes
export const DSM_RANGE_NLB = 4; // u32 Length in logical blocks (a 1-based count)
export const DSM_RANGE_SLBA = 8; // u64 Starting LBA
export const DSM_MAX_RANGES = 256;

export const DSM_ATTR_IDR = 1 << 0; // Integral Dataset for Read
export const DSM_ATTR_IDW = 1 << 1; // Integral Dataset for Write
export const DSM_ATTR_AD = 1 << 2; // Deallocate

export interface DsmRange {
  contextAttributes: number;
  /** Number of logical blocks (not 0-based). */
  nlb: number;
  slba: number;
}

export function encodeDsmRange(
  range: Partial<DsmRange> & Pick<DsmRange, 'nlb' | 'slba'>,
  out: Buffer = Buffer.alloc(DSM_RANGE_SIZE),
  offset = 0,
): Buffer {
  need(out, offset, DSM_RANGE_SIZE, 'DSM range');
  out.writeUInt32LE(range.contextAttributes ?? 0, offset + DSM_RANGE_CONTEXT_ATTRIBUTES);
  out.writeUInt32LE(range.nlb, offset + DSM_RANGE_NLB);
  writeU64(out, range.slba, offset + DSM_RANGE_SLBA);
  return out;
}

export function decodeDsmRange(buf: Buffer, offset = 0): DsmRange {
  need(buf, offset, DSM_RANGE_SIZE, 'DSM range');
  return {
    contextAttributes: buf.readUInt32LE(offset + DSM_RANGE_CONTEXT_ATTRIBUTES),
    nlb: buf.readUInt32LE(offset + DSM_RANGE_NLB),
    slba: readU64(buf, offset + DSM_RANGE_SLBA),
  };
}

/** Encodes 1..256 ranges back to back. */
export function encodeDsmRanges(
  ranges: readonly (Partial<DsmRange> & Pick<DsmRange, 'nlb' | 'slba'>)[],
): Buffer {
  if (ranges.length < 1 || ranges.length > DSM_MAX_RANGES) {
    throw new RangeError(
      `${ranges.length} DSM ranges given; a command carries 1..${DSM_MAX_RANGES}`,
    );
  }
  const out = Buffer.alloc(ranges.length * DSM_RANGE_SIZE);
  ranges.forEach((r, i) => encodeDsmRange(r, out, i * DSM_RANGE_SIZE));
  return out;
}

/** Decodes `count` ranges (NR + 1). RangeError when `buf` holds fewer. */
export function decodeDsmRanges(buf: Buffer, count: number, offset = 0): DsmRange[] {
  need(buf, offset, count * DSM_RANGE_SIZE, `${count} DSM ranges`);
  const ranges: DsmRange[] = [];
  for (let i = 0; i < count; i++) ranges.push(decodeDsmRange(buf, offset + i * DSM_RANGE_SIZE));
  return ranges;
}

export interface DsmCommand {
  cid: number;
  nsid: number;
  /** Number of ranges (NR + 1, not 0-based). */
  ranges: number;
  attributes: number;
  deallocate: boolean;
  sgl: SglDescriptor;
}

export function encodeDsmCommand(
  init: { cid?: number; nsid: number; ranges: number; attributes: number; sgl?: SglDescriptor },
  out: Buffer = Buffer.alloc(SQE_SIZE),
  offset = 0,
): Buffer {
  if (!Number.isInteger(init.ranges) || init.ranges < 1 || init.ranges > DSM_MAX_RANGES) {
    throw new RangeError(`DSM range count ${init.ranges} is not 1..${DSM_MAX_RANGES}`);
  }
  return encodeSqe(
    {
      opcode: IoOpcode.DatasetManagement,
      cid: init.cid ?? 0,
      nsid: init.nsid,
      sgl: init.sgl,
      cdw10: init.ranges - 1,
      cdw11: init.attributes,
    },
    out,
    offset,
  );
}

export function decodeDsmCommand(sqe: Buffer, offset = 0): DsmCommand {
  const s = decodeSqe(sqe, offset);
  return {
    cid: s.cid,
    nsid: s.nsid,
    ranges: (s.cdw10 & 0xff) + 1,
    attributes: s.cdw11,
    deallocate: (s.cdw11 & DSM_ATTR_AD) !== 0,
    sgl: s.sgl,
  };
}
