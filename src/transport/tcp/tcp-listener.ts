/**
 * An NVMe/TCP listener: accepts connections and gives each its TargetQueue and the command
 * handler the caller builds for it. A fatal error on one connection closes only that one.
 */
import net from 'node:net';
import pino, { type Logger } from 'pino';
import { acceptWithOnread } from './accepted-onread.js';
import { RX_READ_BYTES } from './rx-buffers.js';
import { type CommandHandler, TargetQueue, type TargetQueueOptions } from './target-queue.js';

export interface TcpListenerOptions {
  host: string;
  /** 0 = an ephemeral port (read it back with address()). */
  port: number;
  queue: TargetQueueOptions;
  logger?: Logger;
}

export interface TcpListener {
  address(): { host: string; port: number };
  /** Stops accepting, closes every queue, resolves when all sockets are closed. */
  close(): Promise<void>;
  /** Queues currently connected. */
  readonly queues: ReadonlySet<TargetQueue>;
}

export async function createTcpListener(
  opts: TcpListenerOptions,
  onQueue: (queue: TargetQueue) => CommandHandler,
): Promise<TcpListener> {
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ transport: 'tcp' });
  const queues = new Set<TargetQueue>();
  const sockets = new Set<net.Socket>();
  // Paused on accept: no byte is read before the socket is rebuilt with `onread`
  // (acceptWithOnread; without it every read costs a fresh zero-filled 64 KiB buffer: memset and
  // page faults, ~7 % of a storage node's CPU under writes).
  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (accepted) => {
    const created: { queue?: TargetQueue } = {};
    const { socket } = acceptWithOnread(accepted, {
      // The handle asks for its first buffer before the queue exists; that one can be any.
      buffer: () => created.queue?.readBuffers.next() ?? Buffer.allocUnsafe(RX_READ_BYTES),
      callback: (n: number, buf: Uint8Array) => {
        created.queue?.received(buf as Buffer, n);
        return true;
      },
    });
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const queue = new TargetQueue(
      socket,
      opts.queue,
      log.child({ peer: `${socket.remoteAddress}:${socket.remotePort}` }),
    );
    created.queue = queue;
    queues.add(queue);
    queue.once('close', () => queues.delete(queue));
    try {
      queue.start(onQueue(queue));
    } catch (err) {
      log.error({ err }, 'queue setup failed; closing the connection');
      queue.destroy(err as Error);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'listener error'));
  const bound = server.address() as net.AddressInfo;
  log.debug({ host: bound.address, port: bound.port }, 'NVMe/TCP listener started');
  return {
    address: () => ({ host: bound.address, port: bound.port }),
    queues,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const q of queues) q.close('listener closing');
      await Promise.all(
        [...sockets].map((s) => (s.destroyed ? undefined : new Promise((r) => s.once('close', r)))),
      );
      await closed;
    },
  };
}
