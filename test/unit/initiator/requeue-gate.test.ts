import { describe, expect, it } from 'vitest';
import { RequeueGate } from '../../../src/initiator/requeue-gate.js';
import { resolveHostIdentity, uuidBytes } from '../../../src/initiator/host-identity.js';

describe('RequeueGate', () => {
  it('lets waiters go on open(), each once', async () => {
    const gate = new RequeueGate();
    const a = gate.wait(Infinity, () => new Error('late'));
    const b = gate.wait(Date.now() + 60_000, () => new Error('late'));
    expect(gate.size).toBe(2);
    gate.open();
    await expect(a).resolves.toBeUndefined();
    await expect(b).resolves.toBeUndefined();
    expect(gate.size).toBe(0);
    gate.fail(() => new Error('no effect on settled waiters'));
  });

  it('rejects waiters on fail() and at once when the deadline has passed', async () => {
    const gate = new RequeueGate();
    const a = gate.wait(Infinity, () => new Error('late'));
    gate.fail(() => new Error('deleted'));
    await expect(a).rejects.toThrow('deleted');
    await expect(gate.wait(Date.now() - 1, () => new Error('expired'))).rejects.toThrow('expired');
    expect(gate.size).toBe(0);
  });

  it('rejects a waiter whose deadline passes', async () => {
    const gate = new RequeueGate();
    await expect(gate.wait(Date.now() + 5, () => new Error('expired'))).rejects.toThrow('expired');
    expect(gate.size).toBe(0);
  });
});

describe('host identity', () => {
  it('takes the Host ID from a UUID host NQN, in RFC 4122 byte order', () => {
    const id = resolveHostIdentity(
      'nqn.2014-08.org.nvmexpress:uuid:00112233-4455-6677-8899-aabbccddeeff',
    );
    expect(id.hostid.toString('hex')).toBe('00112233445566778899aabbccddeeff');
    expect(uuidBytes('not a uuid')).toBeUndefined();
  });

  it('uses an explicit Host ID and refuses a bad one', () => {
    const id = resolveHostIdentity(
      'nqn.2024-01.io.example:host',
      'ffeeddcc-bbaa-9988-7766-554433221100',
    );
    expect(id.hostid.toString('hex')).toBe('ffeeddccbbaa99887766554433221100');
    expect(() => resolveHostIdentity(undefined, 'nope')).toThrow(/not a UUID/);
  });

  it('shares one generated identity across the process', () => {
    const a = resolveHostIdentity();
    const b = resolveHostIdentity();
    expect(a.hostnqn).toBe(b.hostnqn);
    expect(a.hostid.equals(b.hostid)).toBe(true);
    expect(a.hostnqn).toMatch(/^nqn\.2014-08\.org\.nvmexpress:uuid:/);
  });
});
