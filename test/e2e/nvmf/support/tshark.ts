/**
 * tshark as a wire validator (../shared/REAL-CLIENTS.md): capture loopback traffic to one port,
 * then decode it with the nvme-tcp dissector, digest checks on, into tab-separated fields.
 */
import { Child, run } from './processes.js';

/** Margin after tshark reports "Capturing on" before traffic may start. */
const CAPTURE_SETTLE_MS = 1000;
/** dumpcap's kernel capture buffer (default 2 MiB). */
const CAPTURE_BUFFER_MIB = 64;

export class Capture {
  private stopped = false;

  private constructor(
    private readonly child: Child,
    readonly file: string,
  ) {}

  /** Starts `tshark -i lo -f 'tcp port PORT' -w FILE` and waits until it captures. */
  static async start(port: number, file: string): Promise<Capture> {
    const child = Child.spawn('tshark', [
      '-i',
      'lo',
      '-f',
      `tcp port ${port}`,
      // A kernel buffer large enough that a busy machine does not drop the bursts of 1 MiB PDUs.
      '-B',
      String(CAPTURE_BUFFER_MIB),
      '-w',
      file,
      '-q',
    ]);
    await child.waitForLine(/Capturing on/, 'stderr');
    await new Promise((r) => setTimeout(r, CAPTURE_SETTLE_MS));
    return new Capture(child, file);
  }

  /**
   * Stops the capture and waits for tshark to exit. Packets still in the kernel's capture buffer
   * when the signal arrives are lost, so the traffic gets the same settle time first; SIGINT
   * then makes tshark write out what it has.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await new Promise((r) => setTimeout(r, CAPTURE_SETTLE_MS));
    await this.child.stop('SIGINT');
  }
}

/**
 * Decodes `file` with port `port` as NVMe/TCP and header/data digest checks on. Returns one row
 * per frame matching `filter`, one cell per field; a field that occurs several times in a frame
 * (several PDUs in one segment) gives its values joined by ','.
 */
export async function decode(
  file: string,
  port: number,
  filter: string,
  fields: readonly string[],
): Promise<string[][]> {
  const res = await run('tshark', [
    '-r',
    file,
    '-d',
    `tcp.port==${port},nvme-tcp`,
    '-o',
    'nvme-tcp.check_hdgst:TRUE',
    '-o',
    'nvme-tcp.check_ddgst:TRUE',
    '-Y',
    filter,
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
    ...fields.flatMap((f) => ['-e', f]),
  ]);
  if (res.code !== 0) throw new Error(`tshark -r failed (${res.code}): ${res.stderr}`);
  return res.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** The values of one aggregated cell ('' → none). */
export const values = (cell: string | undefined): string[] =>
  cell === undefined || cell === '' ? [] : cell.split(',');
