/**
 * NbdClient's queue/complete path (queueRead/queueWrite with an IoCompletion, as nvmf-bench's
 * queue slots use it), against this project's NbdServer over a real MemoryBdev: data lands in the
 * caller's buffer, completions follow the server's reply order, an NBD error fails only its own
 * request, a lost connection fails what is in flight, and nothing is ever called back during the
 * queue call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MediaStatus,
  MemoryBdev,
  NvmeStatusError,
  StatusCodeType,
} from '../../../src/bdev/index.js';
import { NbdClient, NbdServer } from '../../../src/shim/nbd/index.js';
import type { IoCompletion } from '../../../src/shim/nbd/pending-request.js';
import { FaultyBdev } from '../../unit/shim/nbd/faulty-bdev.js';

const BLOCK = 4096;
const BLOCKS = 1024;
const IN_FLIGHT = 32;

/** Each block filled with a byte of its own, so a misplaced block shows. */
const blockOf = (lba: number) => Buffer.alloc(BLOCK, (lba * 7 + 1) & 0xff);

/** Records completions in the order they are called back. */
class Recorder implements IoCompletion {
  readonly done: { tag: number; err: Error | undefined }[] = [];
  /** Set while a queue call runs: a completion then would be a bug. */
  inCall = false;
  calledDuringQueue = false;
  constructor(private readonly onDone?: (tag: number, err: Error | undefined) => void) {}
  slot(tag: number): IoCompletion {
    return {
      ioDone: (err) => {
        if (this.inCall) this.calledDuringQueue = true;
        this.done.push({ tag, err });
        this.onDone?.(tag, err);
      },
    };
  }
  ioDone(): void {}
  waitFor(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.done.length >= n ? resolve() : setImmediate(check));
      check();
    });
  }
}

/** A MemoryBdev whose reads of chosen LBAs wait until the test opens their gate. */
class GatedBdev extends FaultyBdev {
  private readonly gates = new Map<number, () => void>();
  private readonly waiting = new Map<number, Promise<void>>();
  hold(lba: number): void {
    this.waiting.set(lba, new Promise((resolve) => this.gates.set(lba, resolve)));
  }
  open(lba: number): void {
    this.gates.get(lba)!();
  }
  override async read(lba: number, blocks: number): Promise<Buffer> {
    await this.waiting.get(lba);
    return super.read(lba, blocks);
  }
}

describe('NbdClient queueRead/queueWrite (callback completions)', () => {
  let server: NbdServer;
  let gated: GatedBdev;
  let uri: string;
  let gatedUri: string;

  beforeAll(async () => {
    const mem = new MemoryBdev({ name: 'mem', blockSize: BLOCK, blockCount: BLOCKS });
    gated = new GatedBdev(BLOCK, BLOCKS);
    for (let lba = 0; lba < 64; lba++) await gated.inner.write(lba, blockOf(lba));
    server = new NbdServer({
      exports: [
        { name: 'vol0', bdev: mem },
        { name: 'gated', bdev: gated },
      ],
    });
    const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
    uri = `nbd://127.0.0.1:${port}/vol0`;
    gatedUri = `nbd://127.0.0.1:${port}/gated`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('writes and reads back through reused buffers, never completing during the call', async () => {
    const c = await NbdClient.connect(uri);
    const rec = new Recorder();
    rec.inCall = true;
    for (let i = 0; i < IN_FLIGHT; i++) c.queueWrite(200 + i, blockOf(200 + i), rec.slot(i));
    rec.inCall = false;
    await rec.waitFor(IN_FLIGHT);
    expect(rec.done.every((d) => d.err === undefined)).toBe(true);

    // Each slot reads many times into its one buffer, resubmitting from its completion.
    const ROUNDS = 8;
    const buffers = Array.from({ length: IN_FLIGHT }, () => Buffer.alloc(BLOCK));
    const seen: boolean[] = [];
    const left = Array<number>(IN_FLIGHT).fill(ROUNDS);
    const reads = new Recorder((slot, err) => {
      const lba = 200 + ((slot + ROUNDS - left[slot]) % IN_FLIGHT);
      seen.push(err === undefined && buffers[slot].equals(blockOf(lba)));
      if (--left[slot] > 0) {
        reads.inCall = true;
        c.queueRead(200 + ((slot + ROUNDS - left[slot]) % IN_FLIGHT), buffers[slot], slots[slot]);
        reads.inCall = false;
      }
    });
    const slots = buffers.map((_, i) => reads.slot(i));
    reads.inCall = true;
    for (let i = 0; i < IN_FLIGHT; i++) c.queueRead(200 + i, buffers[i], slots[i]);
    reads.inCall = false;
    await reads.waitFor(IN_FLIGHT * ROUNDS);
    expect(seen).toEqual(Array(IN_FLIGHT * ROUNDS).fill(true));
    expect(rec.calledDuringQueue || reads.calledDuringQueue).toBe(false);
    expect(c.stats.writeOps).toBe(IN_FLIGHT);
    expect(c.stats.readOps).toBe(IN_FLIGHT * ROUNDS);
    expect(c.stats.readBytes).toBe(IN_FLIGHT * ROUNDS * BLOCK);
    await c.close();
  });

  it('calls back in the order the server replies, each read in its own buffer', async () => {
    const c = await NbdClient.connect(gatedUri);
    const order = [3, 1, 0, 2];
    for (const lba of order) gated.hold(lba);
    const rec = new Recorder();
    const buffers = order.map(() => Buffer.alloc(BLOCK));
    for (let lba = 0; lba < order.length; lba++) c.queueRead(lba, buffers[lba], rec.slot(lba));
    for (const lba of order) {
      gated.open(lba);
      await rec.waitFor(order.indexOf(lba) + 1);
    }
    expect(rec.done.map((d) => d.tag)).toEqual(order);
    buffers.forEach((b, lba) => expect(b.equals(blockOf(lba))).toBe(true));
    await c.close();
  });

  it('keeps reply order when promise completions are queued ahead of a callback one', async () => {
    const c = await NbdClient.connect(uri);
    const events: string[] = [];
    const p = c.read(1, 1).then(() => events.push('promise'));
    const rec = new Recorder(() => events.push('callback'));
    c.queueRead(2, Buffer.alloc(BLOCK), rec.slot(0));
    await p;
    await rec.waitFor(1);
    expect(events).toEqual(['promise', 'callback']);
    await c.close();
  });

  it('an NBD error fails only its own request, with the request named', async () => {
    const c = await NbdClient.connect(gatedUri);
    gated.fault = {
      lba: 5,
      blocks: 1,
      error: new NvmeStatusError(
        StatusCodeType.MediaAndDataIntegrity,
        MediaStatus.UnrecoveredReadError,
      ),
    };
    try {
      const rec = new Recorder();
      const buffers = [Buffer.alloc(BLOCK), Buffer.alloc(BLOCK), Buffer.alloc(BLOCK)];
      [4, 5, 6].forEach((lba, i) => c.queueRead(lba, buffers[i], rec.slot(lba)));
      await rec.waitFor(3);
      const byTag = new Map(rec.done.map((d) => [d.tag, d.err]));
      expect(byTag.get(4)).toBeUndefined();
      expect(byTag.get(6)).toBeUndefined();
      expect(byTag.get(5)).toBeInstanceOf(NvmeStatusError);
      expect(byTag.get(5)!.message).toMatch(new RegExp(`READ ${5 * BLOCK}\\+${BLOCK}`));
      expect(buffers[0].equals(blockOf(4)) && buffers[2].equals(blockOf(6))).toBe(true);
      expect(c.stats.errors).toBe(1);
      // The connection goes on.
      const again = new Recorder();
      c.queueRead(7, buffers[0], again.slot(0));
      await again.waitFor(1);
      expect(again.done[0].err).toBeUndefined();
    } finally {
      gated.fault = undefined;
    }
    await c.close();
  });

  it('refuses a bad range or buffer in the call, before the wire', async () => {
    const c = await NbdClient.connect(uri);
    const rec = new Recorder();
    expect(() => c.queueRead(BLOCKS, Buffer.alloc(BLOCK), rec.slot(0))).toThrow(/beyond/);
    expect(() => c.queueRead(0, Buffer.alloc(100), rec.slot(0))).toThrow(/not whole blocks/);
    expect(() => c.queueWrite(BLOCKS - 1, Buffer.alloc(2 * BLOCK), rec.slot(0))).toThrow(/beyond/);
    expect(rec.done).toEqual([]);
    await c.close();
  });

  it('fails what is in flight when the connection is lost, and later requests after the call', async () => {
    const c = await NbdClient.connect(gatedUri);
    gated.hold(9);
    const rec = new Recorder();
    c.queueRead(9, Buffer.alloc(BLOCK), rec.slot(9));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The connection breaks (as when a peer resets it): the client's socket is destroyed.
    (c as unknown as { socket: { destroy(): void } }).socket.destroy();
    await rec.waitFor(1);
    expect(rec.done[0].err?.message).toMatch(/READ/);
    rec.inCall = true;
    c.queueRead(10, Buffer.alloc(BLOCK), rec.slot(10));
    rec.inCall = false;
    await rec.waitFor(2);
    expect(rec.calledDuringQueue).toBe(false);
    expect(rec.done[1].err).toBeInstanceOf(Error);
    gated.open(9);
  });
});
