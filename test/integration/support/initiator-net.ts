/**
 * Network misbehaviour for the initiator's timeout and reconnect tests, built from raw bytes of
 * the NVMe/TCP 1.0 spec (not from our encoders, so a shared bug cannot hide):
 * - stallServer(): answers ICReq with ICResp and the first command (Connect) with a success
 *   CapsuleResp, then reads and never answers again;
 * - StallableProxy: forwards to a real target until stalled, then drops every byte; resume()
 *   kills the stalled connections and forwards new ones again.
 */
import net from 'node:net';

const CH_SIZE = 8; // common header: type, flags, hlen, pdo, plen (NVMe/TCP 1.0, 3.6.1)
const ICREQ = 0x00;
const ICRESP = 0x01;
const CAPSULE_CMD = 0x04;
const CAPSULE_RESP = 0x05;
const IC_PDU_SIZE = 128;
const CAPSULE_RESP_SIZE = 24; // 8 CH + 16 CQE

export function icResp(maxH2CData = 131072): Buffer {
  const b = Buffer.alloc(IC_PDU_SIZE);
  b[0] = ICRESP;
  b[2] = IC_PDU_SIZE; // hlen
  b.writeUInt32LE(IC_PDU_SIZE, 4); // plen
  b.writeUInt16LE(0, 8); // PFV 0
  b[10] = 0; // CPDA
  b[11] = 0; // DGST: no digests
  b.writeUInt32LE(maxH2CData, 12);
  return b;
}

/** A CapsuleResp carrying a success CQE for `cid` with DW0 `dw0` on SQ `sqid`. */
export function capsuleResp(cid: number, dw0: number, sqid = 0): Buffer {
  const b = Buffer.alloc(CAPSULE_RESP_SIZE);
  b[0] = CAPSULE_RESP;
  b[2] = CAPSULE_RESP_SIZE;
  b.writeUInt32LE(CAPSULE_RESP_SIZE, 4);
  const cqe = CH_SIZE;
  b.writeUInt32LE(dw0, cqe + 0);
  b.writeUInt16LE(1, cqe + 8); // SQHD
  b.writeUInt16LE(sqid, cqe + 10);
  b.writeUInt16LE(cid, cqe + 12);
  b.writeUInt16LE(0, cqe + 14); // status success
  return b;
}

export interface StallServer {
  port: number;
  /** PDU types received, in order, over all connections. */
  received: number[];
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

/** Answers the IC exchange and `answered` capsule commands, then goes silent. */
export async function stallServer(answered = 1): Promise<StallServer> {
  const received: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let commands = 0;
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= CH_SIZE) {
        const plen = buf.readUInt32LE(4);
        if (buf.length < plen) break;
        const pdu = buf.subarray(0, plen);
        buf = buf.subarray(plen);
        received.push(pdu[0]);
        if (pdu[0] === ICREQ) sock.write(icResp());
        else if (pdu[0] === CAPSULE_CMD && commands++ < answered) {
          const cid = pdu.readUInt16LE(CH_SIZE + 2);
          sock.write(capsuleResp(cid, 1));
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export class StallableProxy {
  private server!: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private stalled = false;
  port = 0;
  connections = 0;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = net.createServer((down) => {
      this.connections++;
      const up = net.connect(this.upstreamPort, this.upstreamHost);
      const pair: [net.Socket, net.Socket] = [down, up];
      this.pairs.add(pair);
      const end = () => {
        this.pairs.delete(pair);
        down.destroy();
        up.destroy();
      };
      for (const [from, to] of [
        [down, up],
        [up, down],
      ] as const) {
        from.on('data', (chunk) => {
          if (!this.stalled) to.write(chunk);
        });
        from.on('close', end);
        from.on('error', end);
      }
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** From now on every byte in either direction is dropped; connections stay open. */
  stall(): void {
    this.stalled = true;
  }

  /** Drops the connections that lost bytes and forwards new ones again. */
  resume(): void {
    for (const [down, up] of this.pairs) {
      down.destroy();
      up.destroy();
    }
    this.pairs.clear();
    this.stalled = false;
  }

  async close(): Promise<void> {
    this.resume();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
