/**
 * fio job files (fio HOWTO "Job file format"): INI sections, `[global]` holding defaults for the
 * jobs that follow it, `key=value` or a bare `key` (a boolean set to 1), full-line comments with
 * `;` or `#`, and `${VAR}` expanded from the environment. Option names are checked against the
 * option table here so the refusal names the file and line.
 */
import { BenchUsageError } from '../errors.js';
import { checkOption } from './option-table.js';

export interface RawOption {
  key: string;
  /** undefined for a bare boolean option. */
  value: string | undefined;
}

export interface RawSection {
  name: string;
  global: boolean;
  options: RawOption[];
  /** Where the section came from, for messages: `job.fio:4` or `command line`. */
  where: string;
}

export const GLOBAL_SECTION = 'global';

/** Expands `${VAR}` as fio does; an unset variable is an error rather than an empty string. */
function expandEnv(text: string, where: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined)
      throw new BenchUsageError(`${where}: environment variable ${name} is not set`);
    return v;
  });
}

/** Parses one `key=value` or bare `key` token. */
export function splitOption(text: string): RawOption {
  const eq = text.indexOf('=');
  if (eq < 0) return { key: text.trim(), value: undefined };
  return { key: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim() };
}

/** Parses a job file's text; `source` names it in messages. */
export function parseJobFile(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): RawSection[] {
  const sections: RawSection[] = [];
  let current: RawSection | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const where = `${source}:${i + 1}`;
    const line = lines[i].trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1].trim();
      current = { name, global: name === GLOBAL_SECTION, options: [], where };
      sections.push(current);
      continue;
    }
    if (line.startsWith('['))
      throw new BenchUsageError(`${where}: "${line}" is not a [section] header`);
    if (!current) {
      throw new BenchUsageError(`${where}: option "${line}" is outside of a [job] section`);
    }
    const opt = splitOption(expandEnv(line, where, env));
    const key = checkOption(opt.key, opt.value, 'job', ` (${where})`);
    current.options.push({ key, value: opt.value });
  }
  return sections;
}
