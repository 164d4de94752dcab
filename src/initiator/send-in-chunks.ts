/**
 * A request too large for one command (MDTS, the 16-bit NLB field, 256 DSM ranges, one log page
 * read) goes out as several, all at once: the controller may run them in any order, and the
 * request ends when the last one does.
 */

/**
 * Calls `send(start, count)` for consecutive pieces of [first, first + total), each at most `per`
 * long, all before returning so they are in flight together. Resolves with their results in order,
 * or rejects with the first failure.
 */
export function sendInChunks<T>(
  first: number,
  total: number,
  per: number,
  send: (start: number, count: number) => Promise<T>,
): Promise<T[]> {
  const parts: Promise<T>[] = [];
  for (let done = 0; done < total; done += per) {
    parts.push(send(first + done, Math.min(per, total - done)));
  }
  return Promise.all(parts);
}
