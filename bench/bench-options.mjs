// The command line the bench scripts share: `--name=value` options and bare `--flag`s (true),
// of which --runtime (seconds per job) and --out (the results file) mean the same to all of them.
import { join } from 'node:path';
import { ROOT } from './suite-process.mjs';

export const DEFAULT_RUNTIME_S = 10;

export function benchOptions(argv = process.argv.slice(2)) {
  const args = Object.fromEntries(
    argv.map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k, v ?? true];
    }),
  );
  return {
    args,
    runtime: Number(args.runtime ?? DEFAULT_RUNTIME_S),
    out: args.out ?? join(ROOT, 'bench', 'RESULTS.md'),
  };
}
