/**
 * NBD server exporting bdevs over TCP or a unix socket (the DPU's host-facing block device
 * shim, DESIGN.md). Each connection is a `ServerSession`; every session of an export shares the
 * one bdev, which is what lets the export advertise NBD_FLAG_CAN_MULTI_CONN.
 */
import net from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import { resolveExports, type NbdExport, type NbdExportConfig } from './nbd-export.js';
import { SlabReads, acceptWithOnread } from '../../transport/tcp/accepted-onread.js';
import { ServerSession } from './server-session.js';
import { NBD_DEFAULT_PORT } from './protocol.js';

export interface NbdServerOptions {
  exports: NbdExportConfig[];
  logger?: Logger;
}

export type NbdListenAddress = { host?: string; port?: number } | { path: string };
export type NbdBoundAddress = { host: string; port: number } | { path: string };

export class NbdServer {
  private readonly exports: NbdExport[];
  private readonly log: Logger;
  private readonly sessions = new Set<ServerSession>();
  private server: net.Server | undefined;
  private bound: NbdBoundAddress | undefined;
  private nextSession = 1;

  constructor(opts: NbdServerOptions) {
    this.exports = resolveExports(opts.exports);
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'nbd-server' });
  }

  /** Starts listening; `port: 0` picks a free port. Resolves to the bound address. */
  async listen(addr: NbdListenAddress): Promise<NbdBoundAddress> {
    if (this.server) throw new Error('NBD server is already listening');
    // Paused on accept: no byte is read before the socket is rebuilt with `onread`.
    const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) =>
      this.accept(socket),
    );
    this.server = server;
    if ('path' in addr) await removeStaleSocket(addr.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if ('path' in addr) server.listen(addr.path, done);
      else server.listen(addr.port ?? NBD_DEFAULT_PORT, addr.host ?? '127.0.0.1', done);
    }).catch((err) => {
      this.server = undefined;
      throw err;
    });
    server.on('error', (err) => this.log.error({ err }, 'listener error'));
    const a = server.address();
    this.bound =
      typeof a === 'string' || a === null
        ? { path: (addr as { path: string }).path }
        : { host: a.address, port: a.port };
    this.log.info({ address: this.bound, exports: this.exports.map((e) => e.name) }, 'listening');
    return this.bound;
  }

  address(): NbdBoundAddress | undefined {
    return this.bound;
  }

  /** Number of open client connections. */
  get connections(): number {
    return this.sessions.size;
  }

  /** Stops accepting, lets each session answer its in-flight requests, then closes them. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const stopped = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    await Promise.all([...this.sessions].map((s) => s.shutdown()));
    await stopped;
    this.log.info('closed');
  }

  private accept(accepted: net.Socket): void {
    if (!this.server) {
      accepted.destroy();
      return;
    }
    // Reads land back to back in a staging slab (accepted-onread.ts): no fresh zero-filled
    // buffer per read, and WRITE data that spans two reads stays a view, not a copy.
    const reads = new SlabReads();
    const created: { session?: ServerSession } = {};
    const { socket, rebuilt } = acceptWithOnread(accepted, {
      buffer: () => reads.next(),
      callback: (n: number, buf: Uint8Array) => {
        created.session?.received(reads.filled(buf as Buffer, n));
        return true;
      },
    });
    const remote = socket.remoteAddress
      ? `${socket.remoteAddress}:${socket.remotePort}`
      : `unix#${this.nextSession}`;
    const session = new ServerSession(
      socket,
      this.exports,
      this.log.child({ session: this.nextSession++, remote }),
      !rebuilt,
    );
    created.session = session;
    this.sessions.add(session);
    void session.closed.then(() => this.sessions.delete(session));
    session.start();
  }
}

/** A unix socket left by a previous run blocks listen(); only a socket file is removed. */
async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.isSocket()) await unlink(path);
}
