import { describe, expect, it } from 'vitest';
import { TagTable } from '../../../../src/transport/tcp/tag-table.js';

describe('TagTable', () => {
  it('hands out small tags, reuses released ones and refuses past maxTag', () => {
    const t = new TagTable<string>(2);
    const tags = [t.alloc(), t.alloc(), t.alloc()];
    expect(tags).toEqual([0, 1, 2]);
    tags.forEach((tag) => t.set(tag, `e${tag}`));
    expect(t.alloc()).toBe(-1);
    t.release(1);
    expect(t.get(1)).toBeUndefined();
    expect(t.size).toBe(2);
    expect(t.alloc()).toBe(1);
  });

  it('lists the entries in use without removing them, and drains them all', () => {
    const t = new TagTable<string>(7);
    for (const e of ['a', 'b', 'c', 'd']) t.set(t.alloc(), e);
    t.release(1);
    expect(t.values()).toEqual(['a', 'c', 'd']);
    expect(t.size).toBe(3);
    // values() is a snapshot: releasing while going through it is fine.
    for (const e of t.values()) if (e === 'c') t.release(2);
    expect(t.values()).toEqual(['a', 'd']);
    expect(t.drain()).toEqual(['a', 'd']);
    expect(t.size).toBe(0);
    expect(t.values()).toEqual([]);
    expect(t.alloc()).toBe(0);
  });
});
