/**
 * Target and host over loopback, byte for byte: random I/O from 512 B to 1 MiB at queue depths
 * 1 to 128, on 512- and 4096-byte namespaces, with and without header and data digests; every
 * read is compared with a reference copy and the whole namespace is compared at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostController } from '../../../src/initiator/index.js';
import { startTarget, LOOPBACK, HOST_A, testLogger, type Rig } from './support/target-rig.js';
import { randomIo, compareAll } from './support/random-io.js';

const NQN = 'nqn.2024-01.io.example:random-io';
const MiB = 1024 * 1024;
const NS_BYTES = 32 * MiB;
const DEPTHS = [1, 8, 32, 128];
const OPS: Record<number, number> = { 1: 48, 8: 96, 32: 160, 128: 384 };

let rig: Rig;
beforeAll(async () => {
  rig = await startTarget([
    {
      nqn: NQN,
      namespaces: [
        { blockSize: 512, blockCount: NS_BYTES / 512 },
        { blockSize: 4096, blockCount: NS_BYTES / 4096 },
      ],
    },
  ]);
});
afterAll(() => rig.close());

describe.each([
  { name: 'no digests', hdgst: false, ddgst: false },
  { name: 'header + data digests', hdgst: true, ddgst: true },
])('random I/O, $name', ({ hdgst, ddgst }) => {
  it.each([
    { nsid: 1, blockSize: 512 },
    { nsid: 2, blockSize: 4096 },
  ])(
    'nsid $nsid ($blockSize-byte blocks): 512 B..1 MiB at QD 1..128',
    async ({ nsid, blockSize }) => {
      const ctrl = await HostController.connect({
        traddr: LOOPBACK,
        trsvcid: rig.port,
        subnqn: NQN,
        hostnqn: HOST_A,
        hdgst,
        ddgst,
        nrIoQueues: 2,
        queueDepth: 128,
        logger: testLogger(),
      });
      try {
        const bdev = ctrl.namespace(nsid);
        expect(bdev.blockSize).toBe(blockSize);
        expect(bdev.blockCount * blockSize).toBe(NS_BYTES);
        // Reference: what the namespace holds. Earlier tests on this namespace left data, so it
        // starts as a copy of the device.
        const reference = await bdev.read(0, bdev.blockCount);
        for (const depth of DEPTHS) {
          const r = await randomIo(bdev, reference, {
            seed: depth * 7919 + nsid * 31 + (hdgst ? 1 : 0),
            ops: OPS[depth],
            depth,
            minBytes: 512,
            maxBytes: MiB,
          });
          expect(r.mismatches, `QD ${depth}`).toEqual([]);
          expect(r.reads + r.writes).toBe(OPS[depth]);
          expect(r.peakDepth).toBe(depth);
        }
        expect(await compareAll(bdev, reference, (4 * MiB) / blockSize)).toBeUndefined();
      } finally {
        await ctrl.close();
      }
    },
  );
});
