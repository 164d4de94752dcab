/**
 * Command timeouts and lost connections on the host side, against peers that misbehave on
 * purpose (test/integration/support/initiator-net.ts, built from NVMe/TCP spec bytes): whatever
 * the peer does, every command ends exactly once and nothing hangs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { HostController } from '../../../src/initiator/index.js';
import { NvmeStatusError } from '../../../src/nvme/status.js';
import { stallServer, type StallServer } from '../support/initiator-net.js';

const SUBNQN = 'nqn.2024-01.io.example:stall';
const SCT_PATH = 3;
const SC_ABORTED_BY_HOST = 0x71;
const SCT_GENERIC = 0;
const SC_TRANSIENT_TRANSPORT = 0x22;

let server: StallServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('host command timeouts', () => {
  it('fails a command the controller never answers with Command Aborted By Host', async () => {
    server = await stallServer(1); // answers Connect, then silence
    const err = await HostController.connect({
      traddr: '127.0.0.1',
      trsvcid: server.port,
      subnqn: SUBNQN,
      commandTimeoutMs: 200,
      kato: 0,
      ctrlLossTimeoutMs: 0,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NvmeStatusError);
    const e = err as NvmeStatusError;
    expect([e.sct, e.sc, e.dnr]).toEqual([SCT_PATH, SC_ABORTED_BY_HOST, false]);
    expect(e.message).toMatch(/^Property Get CAP timed out after 200 ms/);
    // ICReq, Connect, Property Get: the host sent nothing after the timeout but closed.
    expect(server.received).toEqual([0x00, 0x04, 0x04]);
  });

  it('bounds the admin Connect itself', async () => {
    server = await stallServer(0);
    const err = (await HostController.connect({
      traddr: '127.0.0.1',
      trsvcid: server.port,
      subnqn: SUBNQN,
      commandTimeoutMs: 150,
      ctrlLossTimeoutMs: 0,
    }).catch((e: unknown) => e)) as NvmeStatusError;
    expect(err.message).toMatch(/^Connect qid 0 to .* timed out after 150 ms/);
  });
});

describe('lost connections', () => {
  it('fails the in-flight command with a Transient Transport Error when the peer closes', async () => {
    // A peer that answers ICReq and closes on the first capsule.
    const sockets = new Set<net.Socket>();
    const peer = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      let seen = 0;
      s.on('data', (chunk) => {
        seen += chunk.length;
        if (seen === 128) {
          const ic = Buffer.alloc(128);
          ic[0] = 0x01;
          ic[2] = 128;
          ic.writeUInt32LE(128, 4);
          ic.writeUInt32LE(131072, 12);
          s.write(ic);
        } else if (seen > 128) s.destroy();
      });
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    const port = (peer.address() as net.AddressInfo).port;
    try {
      const err = (await HostController.connect({
        traddr: '127.0.0.1',
        trsvcid: port,
        subnqn: SUBNQN,
        ctrlLossTimeoutMs: 0,
      }).catch((e: unknown) => e)) as NvmeStatusError;
      expect(err).toBeInstanceOf(NvmeStatusError);
      expect([err.sct, err.sc, err.dnr]).toEqual([SCT_GENERIC, SC_TRANSIENT_TRANSPORT, false]);
      expect(err.message).toMatch(/^Connect qid 0 .* failed: connection lost/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => peer.close(() => r()));
    }
  });

  it('reports a refused TCP connection as one error', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(
      HostController.connect({ traddr: '127.0.0.1', trsvcid: port, subnqn: SUBNQN }),
    ).rejects.toThrow(/ECONNREFUSED|refused/);
  });
});
