/**
 * Opens an NBD client's connection: connects to `nbd://host[:port]/export` or
 * `nbd+unix:///export?socket=PATH`, negotiates (clientHandshake) and hands the socket to the
 * client it then creates. Node's `onread` lands every socket read in one reused buffer: the
 * handshake's, then the one the client's ClientTransmission picks, so that after the handshake
 * the receive path allocates nothing per read.
 */
import net from 'node:net';
import pino, { type Logger } from 'pino';
import { clientHandshake, type NegotiatedExport } from './client-handshake.js';
import type { ClientTransmission } from './client-transmission.js';
import { encodeOption } from './handshake-codec.js';
import { NbdProtocolError } from './nbd-error.js';
import { FrameKind, NbdFramer, type Frame } from './nbd-framer.js';
import { parseNbdUri } from './nbd-uri.js';
import { NbdOption } from './protocol.js';

export interface ClientConnectOptions {
  logger?: Logger;
  /** Time allowed for connecting and negotiating. */
  connectTimeoutMs?: number;
}

/** The client made of a negotiated connection, and its transmission, which reads go to. */
export interface ConnectedClient<T> {
  client: T;
  tx: ClientTransmission;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Handshake replies are small; a larger one is a misbehaving server. */
const MAX_HANDSHAKE_PAYLOAD = 64 * 1024;
/** Where socket reads land during the handshake (after it, ClientTransmission says where). */
const HANDSHAKE_RECEIVE_SIZE = 64 * 1024;

/**
 * Connects and negotiates `uri`, then calls `attach` with the socket and what was negotiated;
 * resolves with the client it returns. On failure the socket is closed and the promise rejects.
 */
export async function clientConnect<T>(
  uri: string,
  opts: ClientConnectOptions,
  attach: (socket: net.Socket, negotiated: NegotiatedExport, log: Logger) => ConnectedClient<T>,
): Promise<T> {
  const target = parseNbdUri(uri);
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'nbd-client', uri });
  // Frames go to the handshake until the client exists, then to its transmission.
  let tx: ClientTransmission | undefined;
  // Node's `onread`: each read lands in the buffer `buffer()` returns, which is reused, so
  // `onBytes` must copy what it keeps. After the handshake the client picks the buffers.
  const handshakeBuffer = Buffer.allocUnsafe(HANDSHAKE_RECEIVE_SIZE);
  const onread = {
    buffer: (): Buffer => (tx ? tx.nextReadBuffer() : handshakeBuffer),
    callback: (n: number, buf: Buffer): boolean => {
      onBytes(buf, n);
      return true;
    },
  };
  const socket =
    target.kind === 'tcp'
      ? net.connect({ host: target.host, port: target.port, noDelay: true, onread })
      : net.connect({ path: target.path, onread });
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  socket.setTimeout(timeoutMs, () =>
    socket.destroy(
      new NbdProtocolError('NBD_ERR_CONNECTION', `${uri}: no handshake within ${timeoutMs} ms`),
    ),
  );

  const frames: Frame[] = [];
  let waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    waiter?.reject(failure);
    waiter = undefined;
  };
  // The handshake's framer keeps views of what it is given, so it gets copies (few, small).
  const framer = new NbdFramer(FrameKind.Greeting, { maxPayload: MAX_HANDSHAKE_PAYLOAD });
  const onBytes = (buf: Buffer, n: number): void => {
    try {
      if (tx) {
        tx.received(buf, n);
        return;
      }
      framer.push(Buffer.from(buf.subarray(0, n)), (f) => {
        if (waiter) {
          waiter.resolve(f);
          waiter = undefined;
        } else frames.push(f);
      });
    } catch (err) {
      socket.destroy(err as Error);
    }
  };
  socket.on('error', (err) => (tx ? tx.abort(err) : fail(err)));
  socket.on('close', () => {
    const why = `${uri}: connection closed`;
    if (tx) tx.abort(new NbdProtocolError('NBD_ERR_CONNECTION', why));
    else fail(new NbdProtocolError('NBD_ERR_CONNECTION', `${why} during the handshake`));
  });

  try {
    const negotiated = await clientHandshake(
      {
        expect: (kind) => (framer.expect = kind),
        send: (b) => void socket.write(b),
        next: () => {
          const f = frames.shift();
          if (f) return Promise.resolve(f);
          if (failure) return Promise.reject(failure);
          return new Promise((resolve, reject) => (waiter = { resolve, reject }));
        },
      },
      target.exportName,
    );
    socket.setTimeout(0);
    // proto.md: the server sends nothing in transmission until asked.
    if (frames.length > 0 || framer.pending > 0) {
      throw new NbdProtocolError(
        'NBD_ERR_UNEXPECTED_REPLY',
        `${uri}: data before any request, after the handshake`,
      );
    }
    const connected = attach(socket, negotiated, log);
    tx = connected.tx;
    log.debug({ negotiated }, 'connected');
    return connected.client;
  } catch (err) {
    // proto.md: a client giving up on negotiation the server answered uses a soft disconnect.
    if (
      err instanceof NbdProtocolError &&
      err.code === 'NBD_ERR_NEGOTIATION' &&
      !socket.destroyed
    ) {
      socket.end(encodeOption(NbdOption.Abort));
    } else socket.destroy();
    throw err;
  }
}
