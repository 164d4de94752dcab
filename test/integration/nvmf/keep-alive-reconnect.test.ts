/**
 * Liveness across the fabric: the target tears an association down when its host goes quiet for
 * KATO; the host's Keep Alives keep an idle association up; a dead link is found by the Keep
 * Alive timeout; and after the target restarts the host reconnects with backoff while every
 * in-flight command ends (fails cleanly or, with fastIoFailTmoMs, is retried) and none hangs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { HostController, type ControllerState } from '../../../src/initiator/index.js';
import { NvmeStatusError } from '../../../src/nvme/status.js';
import { patternBlocks } from '../../support/pattern.js';
import { StallableProxy } from '../support/initiator-net.js';
import {
  startTarget,
  LOOPBACK,
  HOST_A,
  HOST_B,
  testLogger,
  type Rig,
} from './support/target-rig.js';
import { RawHost, connect, capsuleCmd, cqeStatus } from './support/raw-host.js';

const NQN = 'nqn.2024-01.io.example:liveness';
const BS = 512;
const BLOCKS = 8192;
const SCT_GENERIC = 0;
const SC_TRANSIENT_TRANSPORT_ERROR = 0x22;
const SCT_PATH = 3;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function target(port = 0, hosts?: string[]): Promise<Rig> {
  const rig = await startTarget(
    [
      {
        nqn: NQN,
        namespaces: [{ blockSize: BS, blockCount: BLOCKS }],
        allowAnyHost: hosts === undefined,
        allowedHosts: hosts ?? [],
      },
    ],
    port,
  );
  cleanups.push(() => rig.close());
  return rig;
}

async function controller(
  port: number,
  extra: Partial<Parameters<typeof HostController.connect>[0]> = {},
) {
  const ctrl = await HostController.connect({
    traddr: LOOPBACK,
    trsvcid: port,
    subnqn: NQN,
    hostnqn: HOST_A,
    reconnectDelayMs: 20,
    maxReconnectDelayMs: 200,
    logger: testLogger(),
    ...extra,
  });
  cleanups.push(() => ctrl.close());
  return ctrl;
}

/** Resolves when `ctrl` enters `state` (at once if it is there). */
async function reach(ctrl: HostController, state: ControllerState): Promise<void> {
  while (ctrl.state !== state) await once(ctrl, 'state');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('keep alive', () => {
  it('the target tears down an association whose host sends nothing for KATO', async () => {
    const rig = await target();
    const { host } = await RawHost.connect(rig.port);
    const c = connect({ cid: 1, qid: 0, sqsize: 31, kato: 300, subnqn: NQN, hostnqn: HOST_A });
    host.send(capsuleCmd(c.sqe, c.data, {}));
    expect(cqeStatus(await host.next())).toMatchObject({ sct: 0, sc: 0 });
    await host.closedPromise; // no Keep Alive, no other command: the controller goes
    expect(host.closed).toBe(true);
  });

  it("the host's Keep Alives keep an idle association up well past KATO", async () => {
    const rig = await target();
    const ctrl = await controller(rig.port, { kato: 300 });
    const states: ControllerState[] = [];
    ctrl.on('state', (s) => states.push(s));
    const cntlid = ctrl.cntlid;
    await sleep(1200); // four KATOs of idleness
    expect(states).toEqual([]);
    expect(ctrl.cntlid).toBe(cntlid);
    const data = patternBlocks(0, 8, BS, 1);
    await ctrl.namespace(1).write(0, data);
    expect((await ctrl.namespace(1).read(0, 8)).equals(data)).toBe(true);
  });

  it('a link that goes silent is found by the Keep Alive timeout; the host reconnects', async () => {
    const rig = await target();
    const proxy = new StallableProxy(LOOPBACK, rig.port);
    await proxy.start();
    cleanups.push(() => proxy.close());
    // No command timeout: only the Keep Alive (bounded by KATO) can notice the dead link.
    const ctrl = await controller(proxy.port, { kato: 300, commandTimeoutMs: 0 });
    const before = proxy.connections;
    proxy.stall();
    await reach(ctrl, 'connecting');
    proxy.resume();
    await reach(ctrl, 'live');
    expect(proxy.connections).toBeGreaterThan(before);
    const data = patternBlocks(64, 8, BS, 2);
    await ctrl.namespace(1).write(64, data);
    expect((await ctrl.namespace(1).read(64, 8)).equals(data)).toBe(true);
  });
});

describe('reconnect after the target restarts', () => {
  it('fails every in-flight command cleanly, reconnects, and serves again', async () => {
    const rig = await target();
    const ctrl = await controller(rig.port);
    const ns = ctrl.namespace(1);
    const inflight = Array.from({ length: 64 }, (_, i) =>
      i % 2 ? ns.write(i * 16, patternBlocks(i * 16, 16, BS, 3)) : ns.read(i * 16, 16),
    );
    const settled = Promise.allSettled(inflight);
    await rig.close();
    const outcomes = await settled;
    for (const o of outcomes) {
      if (o.status === 'rejected') {
        const e = o.reason as NvmeStatusError;
        expect(e).toBeInstanceOf(NvmeStatusError);
        expect([e.sct, e.sc, e.dnr]).toEqual([SCT_GENERIC, SC_TRANSIENT_TRANSPORT_ERROR, false]);
      }
    }
    await reach(ctrl, 'connecting'); // and stays there: nothing listens until the restart
    // New I/O fails at once while reconnecting (fastIoFailTmoMs 0): a path status, retryable.
    const early = (await ns.read(0, 1).catch((e: unknown) => e)) as NvmeStatusError;
    expect([early.sct, early.dnr]).toEqual([SCT_PATH, false]);

    await target(rig.port);
    await reach(ctrl, 'live');
    const data = patternBlocks(512, 32, BS, 4);
    await ns.write(512, data);
    expect((await ns.read(512, 32)).equals(data)).toBe(true);
  });

  it('with fastIoFailTmoMs, I/O issued during the outage waits and completes after it', async () => {
    const rig = await target();
    const ctrl = await controller(rig.port, { fastIoFailTmoMs: 60_000 });
    const ns = ctrl.namespace(1);
    await rig.close();
    await reach(ctrl, 'connecting');
    const data = patternBlocks(1024, 64, BS, 5);
    const write = ns.write(1024, data);
    await sleep(100); // the write is waiting, not failed
    await target(rig.port);
    await write;
    expect((await ns.read(1024, 64)).equals(data)).toBe(true);
  });

  it('with fastIoFailTmoMs, in-flight commands are sent again after the reconnect', async () => {
    const rig = await target();
    const ctrl = await controller(rig.port, { fastIoFailTmoMs: 60_000 });
    const ns = ctrl.namespace(1);
    const writes = Array.from({ length: 32 }, (_, i) =>
      ns.write(2048 + i * 8, patternBlocks(2048 + i * 8, 8, BS, 6)),
    );
    const all = Promise.all(writes);
    await rig.close();
    await target(rig.port);
    await all; // the new target lost nothing it acknowledged: all are replayed
    const got = await ns.read(2048, 256);
    expect(got.equals(patternBlocks(2048, 256, BS, 6))).toBe(true);
  });

  it('gives up at the controller loss timeout: queued I/O fails, the controller is deleted', async () => {
    const rig = await target();
    const ctrl = await controller(rig.port, { fastIoFailTmoMs: 60_000, ctrlLossTimeoutMs: 300 });
    await rig.close();
    const err = (await ctrl
      .namespace(1)
      .read(0, 1)
      .catch((e: unknown) => e)) as NvmeStatusError;
    expect(err).toBeInstanceOf(NvmeStatusError);
    expect(err.sct).toBe(SCT_PATH);
    expect(ctrl.state).toBe('deleted');
  });

  it('stops reconnecting when the restarted target refuses the host (DNR)', async () => {
    const rig = await target();
    const ctrl = await controller(rig.port);
    await rig.close();
    await target(rig.port, [HOST_B]);
    await reach(ctrl, 'deleted');
  });
});
