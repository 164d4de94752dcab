/**
 * Small-integer tags for outstanding entries: the host's command identifiers and the
 * controller's R2T transfer tags. A dense array plus a free list: O(1) allocate, look up and
 * release, and tags stay small so the array stays compact.
 */
export class TagTable<T> {
  private readonly entries: (T | undefined)[] = [];
  private readonly free: number[] = [];
  private next = 0;

  /** Tags run from 0 to `maxTag`. */
  constructor(private readonly maxTag: number) {}

  /** A free tag, or -1 when every tag is in use. Store the entry with set(). */
  alloc(): number {
    const tag = this.free.pop();
    if (tag !== undefined) return tag;
    return this.next > this.maxTag ? -1 : this.next++;
  }

  set(tag: number, entry: T): void {
    this.entries[tag] = entry;
  }

  get(tag: number): T | undefined {
    return this.entries[tag];
  }

  release(tag: number): void {
    this.entries[tag] = undefined;
    this.free.push(tag);
  }

  /** Entries in use. */
  get size(): number {
    return this.next - this.free.length;
  }

  /** Every entry in use, in tag order (a snapshot: release() during the loop is fine). */
  values(): T[] {
    return this.entries.filter((e): e is T => e !== undefined);
  }

  /** Removes and returns every entry (the connection is going away). */
  drain(): T[] {
    const all = this.values();
    this.entries.length = 0;
    this.free.length = 0;
    this.next = 0;
    return all;
  }
}
