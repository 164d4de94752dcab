/**
 * nvmf-bench as a function: parse fio-style arguments and job files, run the jobs, write the
 * reports. The CLI entry point calls this; tests call it in-process. Returns the exit status:
 * 0, or 1 for a bad command line or job file, a job that failed (err= non-zero, e.g. a verify
 * failure) or a device that could not be opened — as fio exits.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { listEngines, registerBuiltinEngines, getEngine } from './engines/index.js';
import { BenchUsageError } from './errors.js';
import { parseCommandLine } from './options/command-line.js';
import { parseJobFile } from './options/job-file.js';
import { buildJobs } from './options/job-spec.js';
import { optionsHelp } from './options/option-table.js';
import { strerror } from './report/fio-format.js';
import { buildPlotSvg } from './report/plot-svg.js';
import { buildJsonReport } from './report/report-json.js';
import { buildTextPreamble, buildTextReport } from './report/report-text.js';
import { StatusLine } from './report/status-line.js';
import { runBench, type RunningJob } from './runner/bench-run.js';
import { initFastHistograms } from './stats/latency-stat.js';
import { benchVersion } from './version.js';

export interface BenchIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  /** Stop the jobs and report on SIGINT/SIGTERM, as fio does on Ctrl-C (the CLI sets this). */
  handleSignals?: boolean;
}

const JSON_INDENT = 2;

function usage(): string {
  const engines = listEngines()
    .map((e) => `  ${e.name.padEnd(6)} ${e.description}`)
    .join('\n');
  return [
    'usage: nvmf-bench [--option=value …] [--name=JOB --option=value …] [jobfile …]',
    "fio option names and values; job files in fio's INI format ([global] plus jobs).",
    '',
    'options:',
    optionsHelp(),
    '',
    'ioengines:',
    engines,
    '',
  ].join('\n');
}

export async function benchMain(argv: readonly string[], io: BenchIo): Promise<number> {
  registerBuiltinEngines();
  try {
    const cl = parseCommandLine(argv);
    if (cl.help) {
      io.stdout.write(usage());
      return 0;
    }
    if (cl.version) {
      io.stdout.write(`${benchVersion()}\n`);
      return 0;
    }
    const files = await Promise.all(
      cl.jobFiles.map(async (f) => {
        let text: string;
        try {
          text = await readFile(f, 'utf8');
        } catch (err) {
          throw new BenchUsageError(
            `cannot read job file ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          );
        }
        return parseJobFile(text, f);
      }),
    );
    const jobs = buildJobs([cl.jobs, ...files], cl.global.options);
    for (const j of jobs) getEngine(j.ioengine);
    await initFastHistograms();

    const out: string[] | undefined = cl.output ? [] : undefined;
    const emit = (text: string): void => {
      if (out) out.push(text);
      else io.stdout.write(text);
    };
    const normal = cl.outputFormats.includes('normal');
    if (normal) emit(buildTextPreamble(jobs, benchVersion()));
    const status = new StatusLine(io.stdout);
    const startedAt = Date.now();
    const control = { aborted: false };
    let running: RunningJob[] = [];
    const abort = (): void => {
      control.aborted = true;
      for (const r of running) r.stop();
    };
    if (io.handleSignals) {
      process.once('SIGINT', abort);
      process.once('SIGTERM', abort);
    }
    const results = await runBench(
      jobs,
      {
        onGroupStart: (group) => {
          running = group;
          status.attach(group);
        },
      },
      control,
    ).finally(() => {
      process.removeListener('SIGINT', abort);
      process.removeListener('SIGTERM', abort);
    });
    status.stop();

    for (const r of results) {
      if (!r.error) continue;
      if (r.errorText) io.stderr.write(`${r.errorText}\n`);
      io.stderr.write(
        `nvmf-bench: job ${r.spec.name}: err=${r.error}, error=${strerror(r.error)}\n`,
      );
    }
    for (const format of cl.outputFormats) {
      if (format === 'normal') emit(buildTextReport(results));
      else {
        const doc = buildJsonReport(results, {
          plus: format === 'json+',
          version: benchVersion(),
          startedAt,
        });
        emit(JSON.stringify(doc, null, JSON_INDENT) + '\n');
      }
    }
    if (cl.output && out) await writeFile(cl.output, out.join(''));
    if (cl.plot)
      await writeFile(
        cl.plot,
        buildPlotSvg(
          results,
          jobs
            .map((j) => j.name)
            .filter((n, i, a) => a.indexOf(n) === i)
            .join(', '),
        ),
      );
    for (const r of results) r.dispose();
    return results.some((r) => r.error) ? 1 : 0;
  } catch (err) {
    if (err instanceof BenchUsageError) {
      io.stderr.write(`nvmf-bench: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`nvmf-bench: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}
