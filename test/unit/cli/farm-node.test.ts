import { describe, expect, it } from 'vitest';
import { targetArgs } from '../../../src/cli/farm-node.js';
import type { FarmDescription, FarmNode } from '../../../src/dpu/farm-description.js';

const node: FarmNode = {
  name: 'node1',
  addr: '127.0.0.1',
  port: 4420,
  subnqn: 'nqn.2024-01.io.nvmf-dpu:farm:node1',
  pid: null,
  nsid: 1,
  file: 'node1/ns1.img',
  log: 'node1/target.log',
};
const farm = (extra: Partial<FarmDescription>): FarmDescription => ({
  version: 1,
  size: 1 << 20,
  blockSize: 512,
  nodes: [node],
  ...extra,
});
const nsArg = (f: FarmDescription): string => {
  const args = targetArgs('/farm/farm.json', f, node);
  return args[args.indexOf('--ns') + 1];
};

describe('farm node command line', () => {
  it('gives a node its file namespace by default, with the target default I/O mode', () => {
    expect(nsArg(farm({}))).toBe('file:/farm/node1/ns1.img:1048576:512');
  });

  it('passes the farm file I/O mode on to the file spec', () => {
    expect(nsArg(farm({ fileIo: 'pool' }))).toBe('file:/farm/node1/ns1.img:1048576:512:io=pool');
  });

  it('gives a memory-backed farm RAM namespaces of the same geometry', () => {
    expect(nsArg(farm({ backing: 'memory', blockSize: 4096 }))).toBe('mem:1048576:4096');
  });
});
