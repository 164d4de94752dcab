import { describe, expect, it } from 'vitest';
import { SPARSE_TABLE_PAGE_SLOTS, SparseTable } from '../../../src/bdev/sparse-table.js';

describe('SparseTable', () => {
  it('returns what was set, undefined elsewhere, across page boundaries', () => {
    const t = new SparseTable<string>();
    const edge = SPARSE_TABLE_PAGE_SLOTS;
    for (const i of [0, edge - 1, edge, 3 * edge + 5]) t.set(i, `v${i}`);
    expect(t.get(0)).toBe('v0');
    expect(t.get(edge - 1)).toBe(`v${edge - 1}`);
    expect(t.get(edge)).toBe(`v${edge}`);
    expect(t.get(3 * edge + 5)).toBe(`v${3 * edge + 5}`);
    expect(t.get(1)).toBeUndefined();
    expect(t.get(2 * edge)).toBeUndefined(); // a page never allocated
    expect(t.get(100 * edge)).toBeUndefined(); // past the directory
    expect(t.size).toBe(4);
  });

  it('counts a slot once when it is set again, and delete frees it', () => {
    const t = new SparseTable<number>();
    t.set(7, 1);
    t.set(7, 2);
    expect(t.size).toBe(1);
    expect(t.get(7)).toBe(2);
    t.delete(7);
    t.delete(7); // already empty
    t.delete(99 * SPARSE_TABLE_PAGE_SLOTS); // no such page
    expect(t.get(7)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('holds indices of a huge sparse device (a far gap in the directory)', () => {
    const t = new SparseTable<number>();
    const far = 2 ** 34; // the last chunks of a 1 PiB bdev of 64 KiB chunks
    t.set(far, 1);
    t.set(3, 2);
    expect(t.get(far)).toBe(1);
    expect(t.get(far + 1)).toBeUndefined();
    expect(t.get(3)).toBe(2);
    expect(t.size).toBe(2);
  });

  it('clear empties it', () => {
    const t = new SparseTable<number>();
    for (let i = 0; i < 3 * SPARSE_TABLE_PAGE_SLOTS; i += 17) t.set(i, i);
    t.clear();
    expect(t.size).toBe(0);
    expect(t.get(17)).toBeUndefined();
  });
});
