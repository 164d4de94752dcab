/**
 * Who may connect, and what discovery shows: Connect Invalid Host (SCT 1, SC 84h) for a host not
 * on the subsystem's list, Connect Invalid Parameters for an unknown subsystem, and a discovery
 * log that lists only the subsystems the asking host may reach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostController, discoverLog } from '../../../src/initiator/index.js';
import { NvmeStatusError } from '../../../src/nvme/status.js';
import { DISCOVERY_NQN } from '../../../src/nvme/nqn.js';
import {
  startTarget,
  LOOPBACK,
  HOST_A,
  HOST_B,
  testLogger,
  type Rig,
} from './support/target-rig.js';

const OPEN = 'nqn.2024-01.io.example:open';
const ONLY_A = 'nqn.2024-01.io.example:only-a';
const ONLY_B = 'nqn.2024-01.io.example:only-b';
const HOST_C = 'nqn.2024-01.io.example:host-c';

// NVMe-oF 1.1 Figure 39 (Connect command specific status, SCT 1) and Figure 38 (log entries).
const SCT_COMMAND_SPECIFIC = 1;
const SC_CONNECT_INVALID_PARAMETERS = 0x82;
const SC_CONNECT_INVALID_HOST = 0x84;
const TRTYPE_TCP = 3;
const ADRFAM_IPV4 = 1;
const SUBTYPE_NVME = 2;
const SUBTYPE_CURRENT_DISCOVERY = 3;

let rig: Rig;
beforeAll(async () => {
  rig = await startTarget([
    { nqn: OPEN, namespaces: [{ blockSize: 512, blockCount: 2048 }] },
    {
      nqn: ONLY_A,
      allowAnyHost: false,
      allowedHosts: [HOST_A],
      namespaces: [{ blockSize: 4096, blockCount: 256 }],
    },
    { nqn: ONLY_B, allowAnyHost: false, allowedHosts: [HOST_B] },
  ]);
});
afterAll(() => rig.close());

const connect = (subnqn: string, hostnqn: string) =>
  HostController.connect({
    traddr: LOOPBACK,
    trsvcid: rig.port,
    subnqn,
    hostnqn,
    ctrlLossTimeoutMs: 0,
    logger: testLogger(),
  });

describe('Connect access control', () => {
  it('admits an allowed host and an open subsystem', async () => {
    const a = await connect(ONLY_A, HOST_A);
    expect(a.namespaces()).toEqual([1]);
    expect(a.namespace(1).blockSize).toBe(4096);
    expect(a.identify.subnqn).toBe(ONLY_A);
    const open = await connect(OPEN, HOST_C);
    expect(open.ioQueueCount).toBeGreaterThan(0);
    await Promise.all([a.close(), open.close()]);
  });

  it('refuses a host not on the list: Connect Invalid Host (SCT 1, SC 84h), DNR', async () => {
    const err = (await connect(ONLY_A, HOST_B).catch((e: unknown) => e)) as NvmeStatusError;
    expect(err).toBeInstanceOf(NvmeStatusError);
    expect([err.sct, err.sc, err.dnr]).toEqual([
      SCT_COMMAND_SPECIFIC,
      SC_CONNECT_INVALID_HOST,
      true,
    ]);
    expect(err.message).toMatch(/Connect Invalid Host/);
  });

  it('refuses an unknown subsystem: Connect Invalid Parameters', async () => {
    const err = (await connect('nqn.2024-01.io.example:nope', HOST_A).catch(
      (e: unknown) => e,
    )) as NvmeStatusError;
    expect([err.sct, err.sc]).toEqual([SCT_COMMAND_SPECIFIC, SC_CONNECT_INVALID_PARAMETERS]);
  });
});

describe('discovery', () => {
  const discoverAs = (hostnqn: string) =>
    discoverLog({ traddr: LOOPBACK, trsvcid: rig.port, hostnqn, logger: testLogger() });

  it('lists only the subsystems the asking host may reach', async () => {
    const a = await discoverAs(HOST_A);
    const nvme = (log: typeof a) =>
      log.entries
        .filter((e) => e.subtype === SUBTYPE_NVME)
        .map((e) => e.subnqn)
        .sort();
    expect(nvme(a)).toEqual([ONLY_A, OPEN].sort());
    expect(nvme(await discoverAs(HOST_B))).toEqual([ONLY_B, OPEN].sort());
    expect(nvme(await discoverAs(HOST_C))).toEqual([OPEN]);
  });

  it('describes each entry as an NVMe/TCP IPv4 port at the listener address', async () => {
    const log = await discoverAs(HOST_A);
    for (const e of log.entries) {
      expect(e).toMatchObject({
        trtype: TRTYPE_TCP,
        adrfam: ADRFAM_IPV4,
        trsvcid: String(rig.port),
        traddr: LOOPBACK,
      });
    }
    const current = log.entries.filter((e) => e.subtype === SUBTYPE_CURRENT_DISCOVERY);
    expect(current.map((e) => e.subnqn)).toEqual([DISCOVERY_NQN]);
  });

  it('moves GENCTR on when access changes, and the new host sees the subsystem', async () => {
    const before = await discoverAs(HOST_C);
    rig.subsystems.get(ONLY_B)!.addHost(HOST_C);
    const after = await discoverAs(HOST_C);
    expect(after.genctr).toBeGreaterThan(before.genctr);
    expect(after.entries.map((e) => e.subnqn)).toContain(ONLY_B);
  });
});
