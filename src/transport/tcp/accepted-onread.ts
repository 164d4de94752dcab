/**
 * Accepted connections that read into buffers of our choosing (net.Socket `onread`). net.Server
 * offers no `onread` for the sockets it accepts (Node 20-24), and without it every read costs a
 * fresh zero-filled 64 KiB buffer. The server is created with `pauseOnConnect`, so nothing has
 * been read yet; the accepted socket's TCP handle then moves to a socket built with `onread`,
 * the way net.Server builds accepted sockets (`new net.Socket({ handle })`), and the emptied
 * original is destroyed, which gives its count back to the server. Should a Node version keep
 * the handle elsewhere, the accepted socket is used as it is (resumed, emitting 'data').
 */
import net from 'node:net';

/** The parts of a libuv stream handle (TCPWrap, PipeWrap) that net.Socket needs for `onread`. */
interface StreamHandle {
  readStart(): number;
  useUserBuffer(buf: Uint8Array): void;
}

const isStreamHandle = (h: unknown): h is StreamHandle =>
  typeof h === 'object' &&
  h !== null &&
  typeof (h as StreamHandle).readStart === 'function' &&
  typeof (h as StreamHandle).useUserBuffer === 'function';

/**
 * The connection `accepted` (from a server with `pauseOnConnect: true`) as a socket that reads
 * through `onread`; `rebuilt` tells which one the caller got, since only a rebuilt socket calls
 * `onread.callback` (the original emits 'data').
 */
export function acceptWithOnread(
  accepted: net.Socket,
  onread: net.OnReadOpts,
): { socket: net.Socket; rebuilt: boolean } {
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  if (!isStreamHandle(handle)) return { socket: accepted.resume(), rebuilt: false };
  holder._handle = null;
  accepted.destroy();
  // `handle` and `onread` are constructor options @types/node leaves out (Node's net.js reads them).
  const opts = { handle, onread, readable: true, writable: true };
  return { socket: new net.Socket(opts as net.SocketConstructorOpts), rebuilt: true };
}

/** Staging slab size for `SlabReads`: many reads' worth. */
export const READ_SLAB_BYTES = 256 * 1024;
/** Largest read offered (what Node reads by default). */
export const READ_MAX_BYTES = 64 * 1024;
/** A slab with less room than this left is retired. */
const READ_MIN_BYTES = 16 * 1024;

/**
 * Where `onread` reads land: the rest of a staging slab, so consecutive reads sit back to back
 * in memory (a message that spans two reads can be a view, not a copy, see NbdFramer) and many
 * reads share one allocation. Slab bytes are never reused, so the views handed out stay valid;
 * a slab lives while any of them does.
 */
export class SlabReads {
  private slab = Buffer.alloc(0);
  private used = 0;

  /** The buffer for the next read (the `onread.buffer` function). */
  next(): Buffer {
    if (this.slab.length - this.used < READ_MIN_BYTES) {
      this.slab = Buffer.allocUnsafe(READ_SLAB_BYTES);
      this.used = 0;
    }
    return this.slab.subarray(this.used, Math.min(this.slab.length, this.used + READ_MAX_BYTES));
  }

  /** The `n` bytes a read put into `buf` (a buffer next() returned), as a view. */
  filled(buf: Buffer, n: number): Buffer {
    if (buf.buffer === this.slab.buffer && buf.byteOffset === this.slab.byteOffset + this.used) {
      this.used += n;
    }
    return buf.subarray(0, n);
  }
}
