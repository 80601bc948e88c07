// Binary min-heap of (deadline, key) pairs. Entries are never removed early: the owner invalidates them lazily
// by checking, on pop, that the entry still matches what it scheduled. Deadlines and keys live in two parallel
// plain arrays (unboxed doubles and small integers), so an entry costs no object of its own.

interface DeadlineEntry {
  deadline: number;
  key: number;
}

export class DeadlineHeap {
  private readonly deadlines: number[] = [];
  private readonly keys: number[] = [];

  get size(): number {
    return this.deadlines.length;
  }

  push(deadline: number, key: number): void {
    const deadlines = this.deadlines;
    const keys = this.keys;
    let index = deadlines.length;
    deadlines.push(deadline);
    keys.push(key);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((deadlines[parent] as number) <= deadline) break;
      deadlines[index] = deadlines[parent] as number;
      keys[index] = keys[parent] as number;
      index = parent;
    }
    deadlines[index] = deadline;
    keys[index] = key;
  }

  peek(): DeadlineEntry | undefined {
    if (this.deadlines.length === 0) return undefined;
    return { deadline: this.deadlines[0] as number, key: this.keys[0] as number };
  }

  /** The earliest deadline, without allocating an entry. */
  peekDeadline(): number | undefined {
    return this.deadlines[0];
  }

  /** The key of the earliest entry; only meaningful when peekDeadline() is defined. */
  peekKey(): number {
    return this.keys[0] as number;
  }

  pop(): DeadlineEntry | undefined {
    const top = this.peek();
    if (top !== undefined) this.drop();
    return top;
  }

  /** Removes the earliest entry. */
  drop(): void {
    const deadlines = this.deadlines;
    const keys = this.keys;
    if (deadlines.length === 0) return;
    const lastDeadline = deadlines.pop() as number;
    const lastKey = keys.pop() as number;
    const length = deadlines.length;
    if (length === 0) return;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && (deadlines[right] as number) < (deadlines[left] as number) ? right : left;
      if ((deadlines[child] as number) >= lastDeadline) break;
      deadlines[index] = deadlines[child] as number;
      keys[index] = keys[child] as number;
      index = child;
    }
    deadlines[index] = lastDeadline;
    keys[index] = lastKey;
  }
}
