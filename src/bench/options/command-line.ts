/**
 * fio's command line: `--key=value` (or `--key value`), `--name=…` starts a new job and the job
 * options after it belong to that job, job options before the first `--name` are global (they
 * are defaults for every job, job files included), and positional arguments are job files.
 */
import { BenchUsageError } from '../errors.js';
import { GLOBAL_SECTION, type RawOption, type RawSection } from './job-file.js';
import { checkOption, lookupOption } from './option-table.js';

export const OUTPUT_FORMATS = ['normal', 'json', 'json+'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface CommandLine {
  /** Job options before the first --name. */
  global: RawSection;
  /** Jobs started by --name, in order. */
  jobs: RawSection[];
  jobFiles: string[];
  outputFormats: OutputFormat[];
  output?: string;
  plot?: string;
  help: boolean;
  version: boolean;
}

function parseOutputFormats(text: string): OutputFormat[] {
  const formats = text.split(',').map((f) => f.trim());
  for (const f of formats) {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) {
      throw new BenchUsageError(
        `--output-format="${f}" is not one of ${OUTPUT_FORMATS.join(', ')}`,
      );
    }
  }
  return formats as OutputFormat[];
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const cl: CommandLine = {
    global: { name: GLOBAL_SECTION, global: true, options: [], where: 'command line' },
    jobs: [],
    jobFiles: [],
    outputFormats: ['normal'],
    help: false,
    version: false,
  };
  let current: RawSection = cl.global;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--') || arg === '--') {
      if (arg === '--') {
        cl.jobFiles.push(...argv.slice(i + 1));
        break;
      }
      if (arg.startsWith('-') && arg !== '-') {
        throw new BenchUsageError(`"${arg}" is not an option; options are --name=value`);
      }
      cl.jobFiles.push(arg);
      continue;
    }
    const body = arg.slice(2);
    const eq = body.indexOf('=');
    const key = eq < 0 ? body : body.slice(0, eq);
    let value: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
    const def = lookupOption(key, ' (command line)');
    // getopt_long style `--key value` for options that need a value.
    if (value === undefined && def.value === 'required' && i + 1 < argv.length) {
      value = argv[++i];
    }
    const name = checkOption(key, value, def.scope, ' (command line)');
    if (def.scope === 'command-line') {
      applyCommandLineOption(cl, name, value);
      continue;
    }
    const opt: RawOption = { key: name, value };
    if (name === 'name') {
      current = { name: value ?? '', global: false, options: [], where: 'command line' };
      cl.jobs.push(current);
    }
    current.options.push(opt);
  }
  return cl;
}

function applyCommandLineOption(cl: CommandLine, name: string, value: string | undefined): void {
  switch (name) {
    case 'output-format':
      cl.outputFormats = parseOutputFormats(value ?? '');
      break;
    case 'output':
      cl.output = value;
      break;
    case 'plot':
      cl.plot = value;
      break;
    case 'help':
      cl.help = true;
      break;
    case 'version':
      cl.version = true;
      break;
  }
}
