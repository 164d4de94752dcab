/**
 * nbdcopy a 256 MiB random file into nvmf-dpu and back out: byte-identical; `qemu-img compare`
 * agrees. The volume is a stripe (64 KiB chunks) over a 3-node farm of file-backed namespaces,
 * so every MiB of the file crosses all three storage nodes.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { dpuOnFarm, preflight } from './support/dpu-rig.js';
import { run, sha256File } from './support/processes.js';

const MiB = 1024 * 1024;
const FILE_BYTES = 256 * MiB;
const NODES = 3;
/** 3 × 96 MiB = 288 MiB of stripe: room for the file, and a tail that must stay zero. */
const NODE_SIZE = '96MiB';
const CHUNK = 4 * MiB;

async function randomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let done = 0; done < bytes; done += CHUNK) {
    if (!out.write(randomBytes(Math.min(CHUNK, bytes - done)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

t.test('nbdcopy in and out of a striped volume is byte-identical', async (t) => {
  if (!preflight(t, ['nbdcopy', 'qemu-img'])) return;
  const { dir, dpu } = await dpuOnFarm(t, 'nbdcopy', {
    nodes: NODES,
    nodeSize: NODE_SIZE,
    layoutArgs: ['--layout', 'stripe', '--stripe-size', '64KiB'],
  });

  const input = join(dir.path, 'in.bin');
  const output = join(dir.path, 'out.bin');
  await randomFile(input, FILE_BYTES);

  const copyIn = await run('nbdcopy', [input, dpu.uri]);
  t.equal(copyIn.code, 0, `nbdcopy FILE URI ${copyIn.stderr}`);
  const copyOut = await run('nbdcopy', [dpu.uri, output]);
  t.equal(copyOut.code, 0, `nbdcopy URI FILE ${copyOut.stderr}`);

  const head = await run('cmp', ['-n', String(FILE_BYTES), input, output]);
  t.equal(head.code, 0, `the first 256 MiB read back equal the file ${head.stdout}`);
  // Bytes beyond the file that are not NUL: none.
  const zero = await run('sh', [
    '-c',
    `tail -c +${FILE_BYTES + 1} "${output}" | tr -d '\\000' | wc -c`,
  ]);
  t.equal(zero.stdout.trim(), '0', 'the volume beyond the file reads as zeroes');
  await truncate(output, FILE_BYTES);
  t.equal(await sha256File(output), await sha256File(input), 'sha256 of the copy equals the file');

  // qemu-img compare: the longer image's tail must be zero or unallocated (non-strict mode).
  const cmp = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', input, dpu.uri]);
  t.equal(cmp.code, 0, `qemu-img compare says identical: ${cmp.stdout}${cmp.stderr}`);
});
