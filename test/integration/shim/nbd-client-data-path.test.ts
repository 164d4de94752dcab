/**
 * NbdClient's data path as nvmf-bench drives it, against this project's NbdServer: reads into
 * the caller's buffers, and completions handed on one at a time so that a caller resubmitting on
 * completion gets its request out before the next completion reaches it (as fio's nbd engine
 * reaps one reply per nbd_poll() and queues the next command before reaping another).
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBdev } from '../../../src/bdev/index.js';
import { NbdClient, NbdServer } from '../../../src/shim/nbd/index.js';

const BLOCK = 4096;
const IN_FLIGHT = 32;

/** Each block filled with its own number, so a misplaced block shows. */
const blockOf = (lba: number) => Buffer.alloc(BLOCK, lba & 0xff);

describe('NbdClient data path', () => {
  let server: NbdServer;
  let uri: string;

  beforeAll(async () => {
    const mem = new MemoryBdev({ name: 'mem', blockSize: BLOCK, blockCount: 1024 });
    for (let lba = 0; lba < 256; lba++) await mem.write(lba, blockOf(lba));
    server = new NbdServer({ exports: [{ name: 'vol0', bdev: mem }] });
    const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
    uri = `nbd://127.0.0.1:${port}/vol0`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('reads into the caller’s buffer and resolves with that buffer', async () => {
    const c = await NbdClient.connect(uri);
    const into = Buffer.alloc(2 * BLOCK);
    const got = await c.readInto(10, 2, into);
    expect(got).toBe(into);
    expect(into.equals(Buffer.concat([blockOf(10), blockOf(11)]))).toBe(true);
    expect(c.stats.readOps).toBe(1);
    await expect(c.readInto(10, 1, into)).rejects.toThrow(/a read of 4096 bytes into 8192/);
    await c.close();
  });

  it('hands completions on one at a time, each after the previous caller had its turn', async () => {
    const c = await NbdClient.connect(uri);
    const reads = Array.from({ length: IN_FLIGHT }, (_, i) => c.read(i, 1));
    const seenPending: boolean[] = [];
    const resubmitted: Promise<Buffer>[] = [];
    reads.forEach((p, i) =>
      p.then((data) => {
        expect(data.equals(blockOf(i))).toBe(true);
        // The next completion has not been handed on yet, whatever arrived with this one.
        if (i + 1 < IN_FLIGHT) seenPending.push(inspect(reads[i + 1]).includes('<pending>'));
        resubmitted.push(c.read(100 + i, 1));
      }),
    );
    await Promise.all(reads);
    const again = await Promise.all(resubmitted);
    expect(seenPending).toEqual(Array(IN_FLIGHT - 1).fill(true));
    again.forEach((b, i) => expect(b.equals(blockOf(100 + i))).toBe(true));
    await c.close();
  });

  it('writes with one request each and reads the data back', async () => {
    const c = await NbdClient.connect(uri);
    const data = Array.from({ length: IN_FLIGHT }, (_, i) => Buffer.alloc(BLOCK, 0x80 + i));
    await Promise.all(data.map((d, i) => c.write(512 + i, d)));
    expect(c.stats.writeOps).toBe(IN_FLIGHT);
    const back = await Promise.all(data.map((_, i) => c.read(512 + i, 1)));
    back.forEach((b, i) => expect(b.equals(data[i])).toBe(true));
    await c.close();
  });
});
