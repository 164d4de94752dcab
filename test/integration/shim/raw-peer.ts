/**
 * A raw socket peer for driving the NBD server byte by byte in tests: send exact bytes, read an
 * exact number of bytes back, see when the server closes. No NBD logic lives here; messages are
 * built by test/unit/shim/nbd/nbd-bytes.ts.
 */
import net from 'node:net';

export class RawPeer {
  private buf = Buffer.alloc(0);
  private waiting:
    { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private ended = false;
  /** Resolves when the server has closed the connection. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.check();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.check();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  static connect(addr: { port: number } | { path: string }): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s =
        'path' in addr
          ? net.connect({ path: addr.path })
          : net.connect({ host: '127.0.0.1', port: addr.port });
      s.once('connect', () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  send(...bufs: Buffer[]): void {
    for (const b of bufs) this.socket.write(b);
  }

  /** The next `n` bytes from the server. */
  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting = { n, resolve, reject };
      this.check();
    });
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.buf.length;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private check(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.buf.length >= w.n) {
      this.waiting = undefined;
      const out = this.buf.subarray(0, w.n);
      this.buf = this.buf.subarray(w.n);
      w.resolve(out);
    } else if (this.ended) {
      this.waiting = undefined;
      w.reject(new Error(`connection closed with ${this.buf.length} of ${w.n} bytes`));
    }
  }
}
