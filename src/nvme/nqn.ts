/**
 * NVMe Qualified Names (NVMe Base 2.0, 4.5): UTF-8, at most 223 bytes, in one of two forms:
 *   nqn.yyyy-mm.<reverse domain of the naming authority>[:<anything the authority chooses>]
 *   nqn.2014-08.org.nvmexpress:uuid:<uuid 8-4-4-4-12 hex>
 * The discovery subsystem has the well-known NQN `nqn.2014-08.org.nvmexpress.discovery`.
 */
import { randomUUID } from 'node:crypto';

export const DISCOVERY_NQN = 'nqn.2014-08.org.nvmexpress.discovery';
/** Maximum NQN length in bytes, excluding the NUL terminator of the 256-byte fields. */
export const NQN_MAX_BYTES = 223;
export const UUID_NQN_PREFIX = 'nqn.2014-08.org.nvmexpress:uuid:';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const DOMAIN_NQN_RE = new RegExp(
  `^nqn\\.(\\d{4})-(\\d{2})\\.(${LABEL}(?:\\.${LABEL})*)(:.*)?$`,
  's',
);

const SPEC = '(NVMe Base 2.0, 4.5)';

/**
 * Checks an NQN. Returns null when it is valid, else one sentence saying what is wrong and what
 * is expected (for CLI and API error messages). Never throws; `assertNqn` throws instead.
 */
export function validateNqn(nqn: string): string | null {
  if (typeof nqn !== 'string' || nqn.length === 0)
    return `an NQN must be a non-empty string ${SPEC}`;
  const shown = nqn.length > 64 ? `${nqn.slice(0, 64)}…` : nqn;
  const bytes = Buffer.byteLength(nqn, 'utf8');
  if (bytes > NQN_MAX_BYTES) {
    return `NQN "${shown}" is ${bytes} bytes; an NQN is at most ${NQN_MAX_BYTES} bytes of UTF-8 ${SPEC}`;
  }
  if (nqn.includes('\0'))
    return `NQN "${shown}" contains a NUL character, which no NQN may hold ${SPEC}`;
  if (nqn.startsWith(UUID_NQN_PREFIX)) {
    const uuid = nqn.slice(UUID_NQN_PREFIX.length);
    return UUID_RE.test(uuid)
      ? null
      : `NQN "${shown}" must end in a UUID like 01234567-89ab-cdef-0123-456789abcdef after "${UUID_NQN_PREFIX}" ${SPEC}`;
  }
  const m = DOMAIN_NQN_RE.exec(nqn);
  if (!m) {
    return `NQN "${shown}" is not of the form nqn.yyyy-mm.reverse.domain[:name] or ${UUID_NQN_PREFIX}<uuid> ${SPEC}`;
  }
  const month = Number(m[2]);
  if (month < 1 || month > 12)
    return `NQN "${shown}" has month ${m[2]}; expected 01..12 in nqn.yyyy-mm ${SPEC}`;
  if (m[4] === ':') return `NQN "${shown}" ends in ':'; expected a name after the colon ${SPEC}`;
  return null;
}

/** Throws a RangeError with `validateNqn`'s sentence when `nqn` is not a valid NQN. */
export function assertNqn(nqn: string, what = 'NQN'): void {
  const problem = validateNqn(nqn);
  if (problem !== null) throw new RangeError(what === 'NQN' ? problem : `${what}: ${problem}`);
}

export const isUuidNqn = (nqn: string): boolean =>
  nqn.startsWith(UUID_NQN_PREFIX) && UUID_RE.test(nqn.slice(UUID_NQN_PREFIX.length));

/** The UUID of a `nqn.2014-08.org.nvmexpress:uuid:` NQN, lower-cased; undefined for other NQNs. */
export const uuidOfNqn = (nqn: string): string | undefined =>
  isUuidNqn(nqn) ? nqn.slice(UUID_NQN_PREFIX.length).toLowerCase() : undefined;

/** A host NQN in the UUID form (what nvme-cli's `gen-hostnqn` makes); a random UUID by default. */
export function makeHostNqn(uuid: string = randomUUID()): string {
  if (!UUID_RE.test(uuid)) {
    throw new RangeError(`"${uuid}" is not a UUID like 01234567-89ab-cdef-0123-456789abcdef`);
  }
  return UUID_NQN_PREFIX + uuid.toLowerCase();
}
