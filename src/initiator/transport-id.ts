/**
 * Transport IDs: where a subsystem lives. Two textual forms are accepted:
 * - the URI form the CLIs use: `tcp://HOST:PORT/SUBNQN[?nsid=N&hostnqn=…]` (IPv6 in brackets);
 * - SPDK's form (spdk_nvme_transport_id_parse, used by fio's SPDK plugin):
 *   `trtype=tcp adrfam=IPv4 traddr=127.0.0.1 trsvcid=4420 subnqn=nqn… ns=1`, keys case-insensitive,
 *   separated by spaces, with fio's `\:` escape for colons inside a filename.
 */
/** The IANA port for NVMe/TCP I/O controllers (NVMe/TCP Transport 1.0, 3.5.1); discovery uses 8009. */
export const NVME_TCP_DEFAULT_PORT = 4420;
export const NVME_TCP_DISCOVERY_PORT = 8009;

export interface TransportId {
  trtype: 'tcp';
  /** Host name or IP address (IPv6 without brackets). */
  traddr: string;
  /** TCP port as a decimal string, as the discovery log page carries it. */
  trsvcid: string;
  /** Subsystem NQN; undefined when the ID names only an address (e.g. for discovery). */
  subnqn?: string;
  nsid?: number;
  hostnqn?: string;
}

const bad = (text: string, why: string): RangeError =>
  new RangeError(`"${text}" is not a transport ID: ${why}`);

function parsePort(text: string, port: string): string {
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    throw bad(text, `port "${port}" is not a number from 0 to 65535`);
  }
  return String(Number(port));
}

function parseNsid(text: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 0xfffffffe) {
    throw bad(text, `namespace ID "${value}" is not a number from 1 to 4294967294`);
  }
  return n;
}

function parseUri(text: string): TransportId {
  // Not `new URL()`: an NQN holds ':' and must be taken verbatim, and the host may be IPv6.
  const m = /^tcp:\/\/(\[[^\]]+\]|[^/:?#]+)(?::([^/?#]*))?(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(
    text,
  );
  if (!m) throw bad(text, 'expected tcp://HOST:PORT/SUBNQN[?nsid=N]');
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  const id: TransportId = {
    trtype: 'tcp',
    traddr: host,
    trsvcid: m[2] ? parsePort(text, m[2]) : String(NVME_TCP_DEFAULT_PORT),
  };
  if (m[3]) id.subnqn = decodeURIComponent(m[3]);
  for (const [key, value] of new URLSearchParams(m[4] ?? '')) {
    if (key === 'nsid' || key === 'ns') id.nsid = parseNsid(text, value);
    else if (key === 'hostnqn') id.hostnqn = value;
    else throw bad(text, `unknown parameter "${key}" (expected nsid or hostnqn)`);
  }
  return id;
}

function parseSpdk(text: string): TransportId {
  const fields = new Map<string, string>();
  for (const token of text.replace(/\\:/g, ':').trim().split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq <= 0) throw bad(text, `"${token}" is not key=value`);
    fields.set(token.slice(0, eq).toLowerCase(), token.slice(eq + 1));
  }
  const trtype = fields.get('trtype');
  if (trtype === undefined || trtype.toLowerCase() !== 'tcp') {
    throw bad(text, `trtype must be tcp, got ${trtype ?? 'nothing'}`);
  }
  const adrfam = fields.get('adrfam');
  if (adrfam !== undefined && !/^ipv[46]$/i.test(adrfam)) {
    throw bad(text, `adrfam "${adrfam}" is not IPv4 or IPv6`);
  }
  const traddr = fields.get('traddr');
  if (!traddr) throw bad(text, 'traddr is missing');
  const id: TransportId = {
    trtype: 'tcp',
    traddr,
    trsvcid: parsePort(text, fields.get('trsvcid') ?? String(NVME_TCP_DEFAULT_PORT)),
  };
  const subnqn = fields.get('subnqn');
  if (subnqn) id.subnqn = subnqn;
  const ns = fields.get('ns') ?? fields.get('nsid');
  if (ns !== undefined) id.nsid = parseNsid(text, ns);
  const hostnqn = fields.get('hostnqn');
  if (hostnqn) id.hostnqn = hostnqn;
  const known = new Set([
    'trtype',
    'adrfam',
    'traddr',
    'trsvcid',
    'subnqn',
    'ns',
    'nsid',
    'hostnqn',
  ]);
  for (const key of fields.keys()) {
    if (!known.has(key)) throw bad(text, `unknown key "${key}"`);
  }
  return id;
}

/** Parses either transport ID form; throws a RangeError naming the fault in one sentence. */
export function parseTransportId(text: string): TransportId {
  const trimmed = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    if (!/^tcp:\/\//i.test(trimmed)) throw bad(text, 'only the tcp:// transport is supported');
    return parseUri(trimmed);
  }
  if (/\btrtype=/i.test(trimmed)) return parseSpdk(trimmed);
  throw bad(text, 'expected tcp://HOST:PORT/SUBNQN or "trtype=tcp traddr=… trsvcid=… subnqn=…"');
}

/** The URI form of a transport ID (inverse of parseTransportId for the URI form). */
export function formatTransportId(id: TransportId): string {
  const host = id.traddr.includes(':') ? `[${id.traddr}]` : id.traddr;
  const params = new URLSearchParams();
  if (id.nsid !== undefined) params.set('nsid', String(id.nsid));
  if (id.hostnqn !== undefined) params.set('hostnqn', id.hostnqn);
  const query = params.size ? `?${params}` : '';
  return `tcp://${host}:${id.trsvcid}/${id.subnqn ?? ''}${query}`;
}
