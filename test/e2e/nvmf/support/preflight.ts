/**
 * What a suite needs before it runs: the build and the third-party tools. A missing tool skips
 * the suite locally and fails it under CI=true (tools/ensure-tools.mjs installs them).
 */
import type { Test } from 'tap';
import { CI, isBuilt, missingTools } from './processes.js';

export function preflight(t: Test, tools: readonly string[] = []): boolean {
  if (!isBuilt()) {
    t.fail('dist/ is missing: build first with `npx tsc -p tsconfig.build.json` (npm test does)');
    return false;
  }
  const missing = missingTools(tools);
  if (missing.length === 0) return true;
  const why = `missing tools: ${missing.join(', ')} (node tools/ensure-tools.mjs installs them)`;
  if (CI) t.fail(why);
  else t.pass(why, { skip: why });
  return false;
}
