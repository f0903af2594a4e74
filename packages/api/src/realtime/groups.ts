const NONE: readonly never[] = Object.freeze([]);

/**
 * Values grouped by key, for the per-user and per-login registries of live
 * sockets. Most users have one socket open: a group is a small frozen
 * array (about 60 bytes for one value, where a Set costs about 230), and
 * adding or removing makes a new one, so a group being iterated never
 * changes under its loop (a listener may remove itself while it is handed
 * an event).
 */
export class Groups<K, V> {
  readonly #groups = new Map<K, readonly V[]>();

  /** Adds `value` to its group; returns the group's size after. */
  add(key: K, value: V): number {
    const group = this.#groups.get(key) ?? NONE;
    if (group.includes(value)) return group.length;
    const next = [...group, value];
    this.#groups.set(key, next);
    return next.length;
  }

  /** Removes `value` from its group; returns what is left of the group, or -1 if it was not there. */
  delete(key: K, value: V): number {
    const group = this.#groups.get(key);
    const index = group?.indexOf(value) ?? -1;
    if (!group || index < 0) return -1;
    if (group.length === 1) {
      this.#groups.delete(key);
      return 0;
    }
    this.#groups.set(key, group.toSpliced(index, 1));
    return group.length - 1;
  }

  /** The group of `key` as it is now (empty when there is none); it never changes afterwards. */
  get(key: K): readonly V[] {
    return this.#groups.get(key) ?? NONE;
  }

  /** How many keys have a group. */
  get size(): number {
    return this.#groups.size;
  }

  keys(): IterableIterator<K> {
    return this.#groups.keys();
  }

  /** How many values in all groups. */
  count(): number {
    let n = 0;
    for (const group of this.#groups.values()) n += group.length;
    return n;
  }
}
