/**
 * fio's number formatting for its text report: num2str() (fio lib/num2str.c, the version with
 * unit prefixes: "1810k", "7069MiB/s", "63.6MiB", including its carry rounding) and the printf
 * widths its stat.c uses.
 */
export const UNIT_SUFFIX = { none: '', perSec: '/s', byte: 'B', bytePerSec: 'B/s' } as const;
export type Num2StrUnit = keyof typeof UNIT_SUFFIX;

const SI_PREFIX = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const IEC_PREFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
/** fio's default sig_figs: numbers are shortened to at most this many digits. */
export const SIG_FIGS = 4;
const KILO = 1000;
const KIBI = 1024;

/** fio num2str(num, maxlen, base=1, pow2, units). */
export function num2str(
  value: number,
  maxlen: number,
  pow2: boolean,
  unit: Num2StrUnit = 'none',
): string {
  const thousand = pow2 ? KIBI : KILO;
  const prefixes = pow2 ? IEC_PREFIX : SI_PREFIX;
  let num = Math.max(0, Math.floor(value));
  let postIndex = 0;
  let modulo = -1;
  let carry = false;
  while (postIndex < prefixes.length) {
    if (String(num).length <= maxlen) break;
    modulo = num % thousand;
    num = Math.floor(num / thousand);
    carry = modulo >= thousand / 2;
    postIndex++;
  }
  if (postIndex >= prefixes.length) postIndex = 0;
  const done = (n: number): string => `${n}${prefixes[postIndex]}${UNIT_SUFFIX[unit]}`;
  if (modulo === -1) return done(num);
  const room = maxlen - String(num).length;
  if (room <= 1) return done(carry ? num + 1 : num);
  // sprintf("%.Nf", modulo/thousand) then the digits after "0." — fio keeps its quirk that a
  // fraction rounding up to 1.0 prints as ".0".
  const frac = (modulo / thousand).toFixed(room - 1);
  return `${num}.${frac.slice(2)}${prefixes[postIndex]}${UNIT_SUFFIX[unit]}`;
}

/** printf("%W.Pf") */
export const fixed = (v: number, width: number, precision: number): string =>
  v.toFixed(precision).padStart(width);

/** printf("%Wllu") */
export const padInt = (v: number, width: number): string => String(Math.round(v)).padStart(width);

/** C library messages for the errno values a job can end with. */
export function strerror(errno: number): string {
  switch (errno) {
    case 5:
      return 'Input/output error';
    case 84:
      return 'Invalid or incomplete multibyte or wide character';
    default:
      return `error ${errno}`;
  }
}

/** ctime(3) without the newline: "Wed Nov 25 21:10:29 2026". */
export function ctime(ms: number): string {
  const d = new Date(ms);
  const day = d.toLocaleString('en-US', { weekday: 'short' });
  const mon = d.toLocaleString('en-US', { month: 'short' });
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getDate()).padStart(2)} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}
