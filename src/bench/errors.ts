/**
 * Errors of nvmf-bench. A user mistake (bad option, bad value, unsupported option) is one
 * sentence naming the bad thing and what is expected (DESIGN.md "Errors"); the CLI prints it on
 * one line and exits 1, as fio does for a bad job.
 */

/** A bad command line or job file. `code` is stable for scripts and tests. */
export class BenchUsageError extends Error {
  readonly code: string;
  constructor(message: string, code = 'BENCH_BAD_OPTION') {
    super(message);
    this.name = 'BenchUsageError';
    this.code = code;
  }
}

/** An option fio has but nvmf-bench does not: refused, never silently ignored. */
export class UnsupportedOptionError extends BenchUsageError {
  constructor(
    readonly option: string,
    where: string,
  ) {
    super(
      `option "${option}"${where} is not supported by nvmf-bench (see nvmf-bench --help for the supported options)`,
      'BENCH_UNSUPPORTED_OPTION',
    );
    this.name = 'UnsupportedOptionError';
  }
}

/** errno EILSEQ, the error fio reports for a verify failure (err=84). */
export const EILSEQ = 84;

/** A block failed verification; `message` is fio's wording, naming the file and offset. */
export class VerifyError extends Error {
  readonly code = 'BENCH_VERIFY_FAILED';
  readonly errno = EILSEQ;
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'VerifyError';
  }
}
