/** The logs a job asked for (write_lat_log, write_iops_log, write_bw_log), fed per completed I/O. */
import { IoLog, logFileName, type LogKind } from '../stats/io-log.js';
import type { Ddir, JobSpec } from '../options/job-spec.js';

export class JobLogs {
  private readonly slat?: IoLog;
  private readonly clat?: IoLog;
  private readonly lat?: IoLog;
  private readonly iops?: IoLog;
  private readonly bw?: IoLog;
  readonly any: boolean;

  constructor(job: JobSpec) {
    const make = (prefix: string | undefined, kind: LogKind): IoLog | undefined =>
      prefix === undefined
        ? undefined
        : new IoLog(
            kind,
            logFileName(prefix || job.name, kind, job.number),
            job.logAvgMsec,
            job.logOffset,
          );
    this.slat = make(job.latLog, 'slat');
    this.clat = make(job.latLog, 'clat');
    this.lat = make(job.latLog, 'lat');
    this.iops = make(job.iopsLog, 'iops');
    this.bw = make(job.bwLog, 'bw');
    this.any = [this.slat, this.iops, this.bw].some((l) => l !== undefined);
  }

  add(
    tMs: number,
    ddir: Ddir,
    bytes: number,
    offset: number,
    slatNs: number,
    clatNs: number,
    latNs: number,
  ): void {
    this.slat?.add(tMs, ddir, bytes, offset, slatNs);
    this.clat?.add(tMs, ddir, bytes, offset, clatNs);
    this.lat?.add(tMs, ddir, bytes, offset, latNs);
    this.iops?.add(tMs, ddir, bytes, offset, 0);
    this.bw?.add(tMs, ddir, bytes, offset, clatNs);
  }

  /** Writes every log; returns the paths written. */
  async write(endMs: number): Promise<string[]> {
    const logs = [this.slat, this.clat, this.lat, this.iops, this.bw].filter(
      (l): l is IoLog => !!l,
    );
    await Promise.all(logs.map((l) => l.write(endMs)));
    return logs.map((l) => l.path);
  }
}
