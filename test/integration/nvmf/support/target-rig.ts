/**
 * In-process target for the integration suites: an NvmfTarget on 127.0.0.1 port 0 with memory
 * namespaces, and the host NQNs the suites connect as.
 */
import pino, { type Logger } from 'pino';
import { NvmfTarget } from '../../../../src/target/nvmf-target.js';
import { MemoryBdev } from '../../../../src/bdev/memory-bdev.js';
import type { Subsystem } from '../../../../src/target/subsystem.js';

export const HOST_A = 'nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-4000-8000-00000000000a';
export const HOST_B = 'nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-4000-8000-00000000000b';
export const LOOPBACK = '127.0.0.1';

export interface NamespaceSpec {
  blockSize: number;
  blockCount: number;
}

export interface SubsystemSpec {
  nqn: string;
  namespaces?: NamespaceSpec[];
  allowAnyHost?: boolean;
  allowedHosts?: string[];
}

export interface Rig {
  target: NvmfTarget;
  port: number;
  subsystems: Map<string, Subsystem>;
  close(): Promise<void>;
}

/** Test logs stay quiet unless NVMF_TEST_LOG names a pino level. */
export const testLogger = (): Logger => pino({ level: process.env.NVMF_TEST_LOG ?? 'silent' });

export async function startTarget(subsystems: SubsystemSpec[], port = 0): Promise<Rig> {
  const target = new NvmfTarget({ logger: testLogger() });
  const made = new Map<string, Subsystem>();
  for (const s of subsystems) {
    const sub = target.addSubsystem({
      nqn: s.nqn,
      allowAnyHost: s.allowAnyHost ?? true,
      allowedHosts: s.allowedHosts ?? [],
    });
    (s.namespaces ?? []).forEach((ns, i) =>
      sub.addNamespace(
        new MemoryBdev({
          name: `${s.nqn}/ns${i + 1}`,
          blockSize: ns.blockSize,
          blockCount: ns.blockCount,
        }),
      ),
    );
    made.set(s.nqn, sub);
  }
  const bound = await target.listen({ host: LOOPBACK, port });
  return { target, port: bound.port, subsystems: made, close: () => target.close() };
}
