/**
 * nvmf-ctl — this project's nvme-cli: discovery, identify, and bulk read/write of a remote
 * namespace over NVMe/TCP. Option names follow nvme-cli (`-a -s -q -n -g -G -i -Q`,
 * `--output-format normal|json`). Exit status: 0 success, 1 an I/O or protocol failure,
 * 2 a bad argument; errors are one sentence on stderr.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import {
  HostController,
  type HostControllerOptions,
  discoverLog,
  parseTransportId,
  NVME_TCP_DISCOVERY_PORT,
} from '../initiator/index.js';
import { RemoteBdev } from '../initiator/remote-bdev.js';
import { validateNqn } from '../nvme/nqn.js';
import { readToFile, writeFromFile } from './nvmf-ctl-io.js';
import {
  type OutputFormat,
  printDiscovery,
  printIdCtrl,
  printIdNs,
  printList,
  type ListedSubsystem,
  isNvmeSubsystemEntry,
} from './nvmf-ctl-output.js';

/** A mistake in the command line: exit status 2. */
class UsageError extends Error {}

const USAGE = `usage: nvmf-ctl <command> [options]
  discover    -a ADDR [-s PORT]              read the discovery log (port 8009 by default)
  connect-all -a ADDR [-s PORT]              connect to every discovered subsystem and list it
  list        -a ADDR [-s PORT]              same as connect-all
  id-ctrl     tcp://HOST:PORT/NQN            Identify Controller
  id-ns       tcp://HOST:PORT/NQN -n NSID    Identify Namespace
  read        tcp://HOST:PORT/NQN -n NSID --start-block N --block-count N [--data OUT]
  write       tcp://HOST:PORT/NQN -n NSID --start-block N [--block-count N] --data IN
common options:
  -o, --output-format normal|json   -q, --hostnqn NQN      -I, --hostid UUID
  -g, --hdr-digest                  -G, --data-digest
  -i, --nr-io-queues N              -Q, --queue-size N     -t, --timeout MS
  --log-level silent|error|warn|info|debug|trace   (pino JSON on stderr; trace logs every command)
block counts are numbers of blocks (not zero-based as in nvme-cli's -c).
`;

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = {
  'output-format': { type: 'string', short: 'o', default: 'normal' },
  hostnqn: { type: 'string', short: 'q' },
  hostid: { type: 'string', short: 'I' },
  'hdr-digest': { type: 'boolean', short: 'g' },
  'data-digest': { type: 'boolean', short: 'G' },
  'nr-io-queues': { type: 'string', short: 'i' },
  'queue-size': { type: 'string', short: 'Q' },
  timeout: { type: 'string', short: 't' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const ADDRESS: Options = {
  traddr: { type: 'string', short: 'a' },
  trsvcid: { type: 'string', short: 's' },
  transport: { type: 'string', short: 'T' },
};
const NAMESPACE: Options = { 'namespace-id': { type: 'string', short: 'n' } };
const BLOCKS: Options = {
  ...NAMESPACE,
  'start-block': { type: 'string', short: 's' },
  'block-count': { type: 'string', short: 'c' },
  data: { type: 'string', short: 'd' },
};

const COMMANDS: Record<string, { options: Options; positional: number }> = {
  discover: { options: ADDRESS, positional: 0 },
  'connect-all': { options: ADDRESS, positional: 0 },
  list: { options: ADDRESS, positional: 0 },
  'id-ctrl': { options: {}, positional: 1 },
  'id-ns': { options: NAMESPACE, positional: 1 },
  read: { options: BLOCKS, positional: 1 },
  write: { options: BLOCKS, positional: 1 },
};

type Values = Record<string, string | boolean | undefined>;

function parseCommandLine(argv: string[]) {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help', values: {} as Values, positionals: [] as string[] };
  }
  const spec = COMMANDS[command];
  if (!spec) {
    throw new UsageError(
      `unknown command "${command}"; expected one of ${Object.keys(COMMANDS).join(', ')}`,
    );
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...COMMON, ...spec.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional.*$/s, '');
    throw new UsageError(`${msg.charAt(0).toLowerCase()}${msg.slice(1)} for ${command}`);
  }
  if (parsed.values.help) return { command: 'help', values: {} as Values, positionals: [] };
  if (parsed.positionals.length !== spec.positional) {
    throw new UsageError(
      spec.positional
        ? `${command} takes one transport ID such as tcp://127.0.0.1:4420/nqn.2024-01.io.example:disk`
        : `${command} takes no positional argument, got "${parsed.positionals[0]}"`,
    );
  }
  return { command, values: parsed.values as Values, positionals: parsed.positionals };
}

function integer(values: Values, name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  const text = values[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (typeof text !== 'string' || !/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(`--${name} "${String(text)}" is not a whole number from ${min} to ${max}`);
  }
  return n;
}

function outputFormat(values: Values): OutputFormat {
  const f = values['output-format'];
  if (f !== 'normal' && f !== 'json') {
    throw new UsageError(`--output-format "${String(f)}" is not normal or json`);
  }
  return f;
}

/** nvme-cli reads /etc/nvme/hostnqn when -q is absent; so does nvmf-ctl. */
function hostNqn(values: Values): string | undefined {
  let nqn = values.hostnqn as string | undefined;
  if (nqn === undefined) {
    try {
      nqn = readFileSync('/etc/nvme/hostnqn', 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }
  const problem = nqn === undefined ? null : validateNqn(nqn);
  if (problem !== null) throw new UsageError(`--hostnqn: ${problem}`);
  return nqn;
}

function controllerOptions(values: Values, logger: Logger) {
  return {
    hostnqn: hostNqn(values),
    hostid: values.hostid as string | undefined,
    hdgst: values['hdr-digest'] === true,
    ddgst: values['data-digest'] === true,
    nrIoQueues: integer(values, 'nr-io-queues', 1, 65535),
    queueDepth: integer(values, 'queue-size', 2, 65536),
    commandTimeoutMs: integer(values, 'timeout', 1),
    // A one-shot command reports a lost connection instead of waiting to reconnect.
    ctrlLossTimeoutMs: 0,
    logger,
  } satisfies Partial<HostControllerOptions>;
}

function address(values: Values) {
  if (values.transport !== undefined && values.transport !== 'tcp') {
    throw new UsageError(`transport "${String(values.transport)}" is not supported; use tcp`);
  }
  const traddr = values.traddr as string | undefined;
  if (!traddr) throw new UsageError('-a/--traddr ADDRESS is required');
  const port = integer(values, 'trsvcid', 1, 65535) ?? NVME_TCP_DISCOVERY_PORT;
  return { traddr, trsvcid: String(port) };
}

function target(positionals: string[], values: Values) {
  let id;
  try {
    id = parseTransportId(positionals[0]);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!id.subnqn) throw new UsageError(`"${positionals[0]}" names no subsystem NQN`);
  const nsid = integer(values, 'namespace-id', 1, 0xfffffffe) ?? id.nsid;
  return { traddr: id.traddr, trsvcid: id.trsvcid, subnqn: id.subnqn, nsid, hostnqn: id.hostnqn };
}

async function withController<T>(
  opts: HostControllerOptions,
  use: (ctrl: HostController) => Promise<T>,
): Promise<T> {
  const ctrl = await HostController.connect(opts);
  try {
    return await use(ctrl);
  } finally {
    await ctrl.close();
  }
}

function namespaceOf(ctrl: HostController, nsid: number | undefined): RemoteBdev {
  const chosen = nsid ?? ctrl.namespaces()[0];
  if (chosen === undefined || !ctrl.namespaceInfo(chosen)) {
    throw new UsageError(
      `namespace ${chosen ?? ''} is not active on ${ctrl.subnqn}; active: ${ctrl.namespaces().join(', ') || 'none'}`,
    );
  }
  return ctrl.namespace(chosen);
}

async function run(argv: string[]): Promise<void> {
  const { command, values, positionals } = parseCommandLine(argv);
  if (command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const format = outputFormat(values);
  const level = (values['log-level'] as string | undefined) ?? 'silent';
  if (!['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(level)) {
    throw new UsageError(`--log-level "${level}" is not silent, error, warn, info, debug or trace`);
  }
  const logger = pino({ level, name: 'nvmf-ctl' }, pino.destination(2));
  const common = controllerOptions(values, logger);

  switch (command) {
    case 'discover': {
      const log = await discoverLog({ ...address(values), ...common });
      printDiscovery(log, format);
      return;
    }
    case 'connect-all':
    case 'list': {
      const where = address(values);
      const log = await discoverLog({ ...where, ...common });
      const subsystems: ListedSubsystem[] = [];
      for (const entry of log.entries.filter(isNvmeSubsystemEntry)) {
        // A target listening on a wildcard address reports it; reach it where discovery answered.
        const traddr = /^(0\.0\.0\.0|::)?$/.test(entry.traddr) ? where.traddr : entry.traddr;
        const listed = await withController(
          { ...common, traddr, trsvcid: entry.trsvcid, subnqn: entry.subnqn, nrIoQueues: 0 },
          async (ctrl) => ({
            subnqn: entry.subnqn,
            traddr,
            trsvcid: entry.trsvcid,
            cntlid: ctrl.cntlid,
            identify: ctrl.identify,
            namespaces: ctrl.namespaces().map((nsid) => ctrl.namespaceInfo(nsid)!),
          }),
        );
        subsystems.push(listed);
      }
      printList(subsystems, format);
      return;
    }
    case 'id-ctrl': {
      const t = target(positionals, values);
      await withController(
        { ...common, ...t, hostnqn: common.hostnqn ?? t.hostnqn, nrIoQueues: 0 },
        async (ctrl) => printIdCtrl(ctrl.identify, format),
      );
      return;
    }
    case 'id-ns': {
      const t = target(positionals, values);
      if (t.nsid === undefined) throw new UsageError('id-ns needs -n/--namespace-id NSID');
      await withController(
        { ...common, ...t, hostnqn: common.hostnqn ?? t.hostnqn, nrIoQueues: 0 },
        async (ctrl) => {
          const bdev = namespaceOf(ctrl, t.nsid);
          printIdNs(ctrl.namespaceInfo(bdev.nsid)!, format);
        },
      );
      return;
    }
    case 'read':
    case 'write': {
      const t = target(positionals, values);
      const start = integer(values, 'start-block', 0) ?? 0;
      let count = integer(values, 'block-count', 1);
      const data = values.data as string | undefined;
      let fileSize = 0;
      if (command === 'write') {
        if (data === undefined) throw new UsageError('write needs --data FILE');
        try {
          fileSize = (await stat(data)).size;
        } catch {
          throw new UsageError(`--data "${data}" cannot be read`);
        }
      } else if (count === undefined) {
        throw new UsageError('read needs --block-count N');
      }
      await withController(
        { ...common, ...t, hostnqn: common.hostnqn ?? t.hostnqn },
        async (ctrl) => {
          const bdev = namespaceOf(ctrl, t.nsid);
          if (command === 'write') {
            if (fileSize % bdev.blockSize !== 0) {
              throw new UsageError(
                `--data "${data}" is ${fileSize} bytes, not a whole number of ${bdev.blockSize}-byte blocks`,
              );
            }
            const fileBlocks = fileSize / bdev.blockSize;
            if (count !== undefined && count > fileBlocks) {
              throw new UsageError(
                `--block-count ${count} exceeds the ${fileBlocks} blocks in "${data}"`,
              );
            }
            count ??= fileBlocks;
          }
          if (start + count! > bdev.blockCount) {
            throw new UsageError(
              `blocks ${start}..${start + count! - 1} are beyond the namespace's ${bdev.blockCount} blocks`,
            );
          }
          const transfer = {
            bdev,
            startBlock: start,
            blockCount: count!,
            progress: process.stderr.isTTY ? process.stderr : undefined,
          };
          const bytes =
            command === 'read'
              ? await readToFile(data, transfer)
              : await writeFromFile(data!, transfer);
          // When the blocks themselves go to stdout, nothing else may: the summary is left out.
          const dataOnStdout = command === 'read' && data === undefined;
          if (dataOnStdout) return;
          if (format === 'json') {
            process.stdout.write(
              `${JSON.stringify({ command, nsid: bdev.nsid, startBlock: start, blockCount: count, blockSize: bdev.blockSize, bytes })}\n`,
            );
          } else {
            process.stdout.write(`${command}: Success\n`);
          }
        },
      );
      return;
    }
  }
}

// A reader that stops early (`| head`) is not an error: stop quietly, as nvme-cli does.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

run(process.argv.slice(2)).then(
  () => {
    process.exitCode = 0;
  },
  (err: Error) => {
    const usage = err instanceof UsageError;
    const sentence = err.message.replace(/\s+/g, ' ').trim();
    process.stderr.write(`nvmf-ctl: ${sentence}${usage ? ' (nvmf-ctl help shows usage)' : ''}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
