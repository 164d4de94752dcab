/** nvmf-bench's version string, fio style ("fio-3.33" → "nvmf-bench-0.1.0"), from package.json. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function benchVersion(): string {
  if (cached) return cached;
  // src/bench and dist/bench are both two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  cached = `nvmf-bench-${pkg.version}`;
  return cached;
}
