/**
 * Byte ranges over a list of buffers, as views: the host sends H2CData and in-capsule data
 * straight from the caller's buffers, and the controller sends C2HData straight from the
 * handler's, without concatenating them (DESIGN.md "Data path rules").
 */

/** Total length of a buffer or a list of buffers. */
export function totalLength(data: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(data)) return data.length;
  let n = 0;
  for (const b of data) n += b.length;
  return n;
}

/**
 * Views of bytes [offset, offset+length) of `data`; a single view when one buffer holds them,
 * and `data` itself when that is the whole of it.
 */
export function sliceBuffers(
  data: Buffer | readonly Buffer[],
  offset: number,
  length: number,
): Buffer | Buffer[] {
  if (Buffer.isBuffer(data)) {
    return offset === 0 && length === data.length ? data : data.subarray(offset, offset + length);
  }
  const out: Buffer[] = [];
  let pos = 0;
  const end = offset + length;
  for (const b of data) {
    const next = pos + b.length;
    if (next > offset && pos < end) {
      out.push(b.subarray(Math.max(0, offset - pos), Math.min(b.length, end - pos)));
    }
    if (next >= end) break;
    pos = next;
  }
  return out.length === 1 ? out[0] : out;
}
