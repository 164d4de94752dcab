/**
 * Raw TCP peers for malformed-PDU tests: a client that sends crafted bytes to a listener and
 * collects what comes back, and a server that plays a crafted controller to a HostQueue.
 */
import net from 'node:net';
import { splitPdus } from './pdu-builder.js';

export interface RawClient {
  socket: net.Socket;
  /** Every byte received so far. */
  received(): Buffer;
  /** Resolves with every byte received once the connection has closed. */
  closed: Promise<Buffer>;
  /** Resolves with the PDUs received once there are at least `n`. */
  pdus(n: number): Promise<Buffer[]>;
}

/** Collects what arrives on `socket`. */
function wrapSocket(socket: net.Socket): RawClient {
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  const waiters: (() => void)[] = [];
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    for (const w of waiters.splice(0)) w();
  });
  const received = () => Buffer.concat(chunks);
  const closed = new Promise<Buffer>((resolve) => socket.once('close', () => resolve(received())));
  const pdus = async (n: number): Promise<Buffer[]> => {
    for (;;) {
      const got = splitPdus(received());
      if (got.length >= n || socket.destroyed || socket.readableEnded) return got;
      await new Promise<void>((r) => {
        waiters.push(r);
        socket.once('close', r);
      });
    }
  };
  return { socket, received, closed, pdus };
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return wrapSocket(socket);
}

export interface RawServer {
  port: number;
  /** Resolves with the next accepted connection. */
  accept(): Promise<RawClient>;
  close(): Promise<void>;
}

/** A listening socket whose connections are handed to the test as RawClients. */
export async function rawServer(): Promise<RawServer> {
  const pending: net.Socket[] = [];
  const waiting: ((s: net.Socket) => void)[] = [];
  const all = new Set<net.Socket>();
  const server = net.createServer((s) => {
    all.add(s);
    const w = waiting.shift();
    if (w) w(s);
    else pending.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    accept: () =>
      new Promise<RawClient>((resolve) => {
        const s = pending.shift();
        if (s) resolve(wrapSocket(s));
        else waiting.push((x) => resolve(wrapSocket(x)));
      }),
    close: async () => {
      for (const s of all) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** FES, FEI and the echoed header of a TermReq PDU. */
export const termReqOf = (pdu: Buffer) => ({
  type: pdu[0],
  fes: pdu.readUInt16LE(8),
  fei: pdu.readUInt32LE(10),
  echo: pdu.subarray(24),
});
