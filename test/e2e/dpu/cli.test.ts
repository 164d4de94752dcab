/**
 * The commands themselves: nvmf-farm's life cycle (up, status, stop, start, down; same port and
 * file after a restart), nvmf-dpu's answers to bad flags (one sentence, exit 2) and to a leg that
 * is not there (exit 1), its unix-socket endpoint, and its clean exit on SIGINT.
 */
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DATA_PATH_ENV, DATA_PATH_NODE_FLAGS } from '../../../src/cli/node-flags.js';
import { farm, farmUp, logLines, preflight, readFarm } from './support/dpu-rig.js';
import { Child, bin, run, runBin, tempDir } from './support/processes.js';

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

interface StatusRow {
  name: string;
  address: string;
  pid: number | null;
  alive: boolean;
  listening: boolean;
}

async function status(dir: string): Promise<StatusRow[]> {
  const res = await farm(dir, 'status', '--json');
  return (JSON.parse(res.stdout) as { nodes: StatusRow[] }).nodes;
}

/** One line on stderr, prefixed with the command, and no stack trace. */
function oneSentence(t: Test, stderr: string, command: string, re: RegExp) {
  const lines = stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line: ${stderr}`);
  t.match(lines[0], new RegExp(`^${command}: `));
  t.match(lines[0], re);
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
}

t.test('nvmf-farm: up, status, stop, start, down', async (t) => {
  if (!preflight(t, [])) return;
  const dir = await tempDir('farm-cli');
  t.teardown(() => dir.remove());
  const farmDir = join(dir.path, 'farm');

  const bad = await farm(farmDir, 'up', '--nodes', 'many');
  t.equal(bad.code, EXIT_USAGE, 'a bad --nodes is a usage error');
  oneSentence(t, bad.stderr, 'nvmf-farm', /--nodes "many" is not a whole number/);
  const unknown = await runBin('nvmf-farm', ['launch']);
  t.equal(unknown.code, EXIT_USAGE);
  oneSentence(t, unknown.stderr, 'nvmf-farm', /unknown command "launch"/);
  const missing = await farm(farmDir, 'status');
  t.equal(missing.code, EXIT_USAGE, 'no farm yet');
  oneSentence(t, missing.stderr, 'nvmf-farm', /farm\.json does not exist/);

  const info = await farmUp(farmDir, 2, '16MiB');
  t.teardown(() => farm(farmDir, 'down'));
  t.equal(info.nodes.length, 2);
  t.equal(info.size, 16 * 1024 * 1024);
  for (const n of info.nodes) {
    t.ok(n.port > 0, `${n.name} got a real port`);
    t.ok(n.pid !== null, `${n.name} has a pid`);
    const log = await readFile(join(farmDir, n.name, 'target.log'), 'utf8');
    t.match(
      log,
      new RegExp(`listening on 127\\.0\\.0\\.1:${n.port}`),
      `${n.name} logs to target.log`,
    );
    t.ok(existsSync(join(farmDir, n.file)), `${n.name} has its backing file`);
    const argv = (await readFile(`/proc/${n.pid}/cmdline`, 'utf8')).split('\0');
    for (const flag of DATA_PATH_NODE_FLAGS) {
      t.ok(argv.includes(flag), `${n.name} runs node with ${flag}`);
    }
    const environ = (await readFile(`/proc/${n.pid}/environ`, 'utf8')).split('\0');
    for (const [name, value] of Object.entries(DATA_PATH_ENV)) {
      t.ok(environ.includes(`${name}=${value}`), `${n.name} runs with ${name}=${value}`);
    }
  }
  t.same(
    (await status(farmDir)).map((r) => [r.name, r.alive, r.listening]),
    [
      ['node1', true, true],
      ['node2', true, true],
    ],
  );

  const again = await farmUp(farmDir, 2, '16MiB');
  t.same(
    again.nodes.map((n) => [n.pid, n.port]),
    info.nodes.map((n) => [n.pid, n.port]),
    'up on a running farm keeps its nodes',
  );
  const other = await farm(farmDir, 'up', '--nodes', '3');
  t.equal(other.code, EXIT_USAGE, 'a different shape is refused');
  oneSentence(t, other.stderr, 'nvmf-farm', /already holds a farm with nodes 2, not 3/);

  const noName = await farm(farmDir, 'stop');
  t.equal(noName.code, EXIT_USAGE);
  oneSentence(t, noName.stderr, 'nvmf-farm', /stop needs a node name, one of node1, node2/);
  t.equal((await farm(farmDir, 'stop', 'node2')).code, 0, 'stop node2');
  t.same(
    (await status(farmDir)).map((r) => [r.name, r.alive, r.listening]),
    [
      ['node1', true, true],
      ['node2', false, false],
    ],
  );
  t.equal((await farm(farmDir, 'start', 'node2')).code, 0, 'start node2');
  const restarted = await readFarm(farmDir);
  t.equal(restarted.nodes[1].port, info.nodes[1].port, 'node2 keeps its port');
  t.not(restarted.nodes[1].pid, info.nodes[1].pid, 'node2 is a new process');
  t.ok((await status(farmDir))[1].listening, 'node2 listens again');

  t.equal((await farm(farmDir, 'down')).code, 0, 'down');
  t.same(
    (await status(farmDir)).map((r) => r.alive),
    [false, false],
    'every node is stopped',
  );
  t.same(
    (await readFarm(farmDir)).nodes.map((n) => n.pid),
    [null, null],
  );
});

// The full set of flag mistakes is in test/integration/dpu/dpu-flags.test.ts; here the process's
// answer to a few: exit status, one line on stderr.
t.test('nvmf-dpu: bad flags and a missing leg', async (t) => {
  if (!preflight(t, [])) return;
  const cases: [string[], RegExp][] = [
    [
      ['--layout', 'raid5', '--connect', 'tcp://127.0.0.1:1/nqn.2024-01.io.x:a'],
      /--layout "raid5" is not one of single, concat, stripe, mirror/,
    ],
    [[], /names no storage/],
    [['--bogus'], /unknown option --bogus/],
  ];
  for (const [args, re] of cases) {
    const res = await runBin('nvmf-dpu', args);
    t.equal(res.code, EXIT_USAGE, `exit 2 for ${args.join(' ')}`);
    oneSentence(
      t,
      res.stderr
        .split('\n')
        .filter((l) => !l.startsWith('{'))
        .join('\n'),
      'nvmf-dpu',
      re,
    );
  }
  // Port 1 on loopback: nothing listens there; the connect is refused at once.
  const res = await runBin('nvmf-dpu', ['--connect', 'tcp://127.0.0.1:1/nqn.2024-01.io.x:a']);
  t.equal(res.code, EXIT_FAILURE, 'an unreachable leg is a run-time failure');
  t.match(
    res.stderr,
    /nvmf-dpu: leg 1 \(tcp:\/\/127\.0\.0\.1:1\/nqn\.2024-01\.io\.x:a\) cannot be used/,
  );
});

t.test('nvmf-dpu: unix socket endpoint and a clean SIGINT', async (t) => {
  if (!preflight(t, ['nbdinfo'])) return;
  const dir = await tempDir('dpu-socket');
  t.teardown(() => dir.remove());
  const farmDir = join(dir.path, 'farm');
  await farmUp(farmDir, 2, '16MiB');
  t.teardown(() => farm(farmDir, 'down'));
  const socket = join(dir.path, 'nbd.sock');
  const child = Child.spawn(process.execPath, [
    bin('nvmf-dpu'),
    '--farm',
    join(farmDir, 'farm.json'),
    '--layout',
    'mirror',
    '--nbd-socket',
    socket,
    '--save-config',
    join(dir.path, 'dpu.json'),
  ]);
  t.teardown(() => child.stop('SIGKILL'));
  const m = await child.waitForStdout(/^(nbd\+unix:\/\/\/vol0\?socket=.*)$/);
  t.equal(child.stdoutLines.length, 1, 'only the unix endpoint: no TCP listener by default');
  t.same(
    JSON.parse(await readFile(join(dir.path, 'dpu.json'), 'utf8')),
    {
      farm: join(farmDir, 'farm.json'),
      layout: 'mirror',
      nbdSocket: socket,
      stateDir: join(farmDir, 'dpu'),
    },
    '--save-config writes the effective config, usable with --config',
  );
  const info = await run('nbdinfo', ['--size', m[1]]);
  t.equal(info.stdout.trim(), String(16 * 1024 * 1024), `nbdinfo over the socket ${info.stderr}`);
  t.equal(
    logLines(child).some((l) => l.msg === 'serving'),
    true,
  );

  const ended = await child.stop('SIGINT');
  t.same(ended, { code: 0, signal: null }, 'SIGINT: exit 0');
  const msgs = logLines(child).map((l) => l.msg);
  t.ok(msgs.includes('leg disconnected'), 'controllers were disconnected');
  t.ok(msgs.includes('stopped'), 'logged the clean stop');
  t.notOk(existsSync(socket), 'the socket file is gone');
});
