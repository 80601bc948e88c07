// Binary min-heap of (deadline, key) pairs. Entries are never removed early: the owner invalidates them lazily
// by checking, on pop, that the entry still matches what it scheduled.

export interface DeadlineEntry {
  deadline: number;
  key: number;
}

export class DeadlineHeap {
  private readonly items: DeadlineEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(deadline: number, key: number): void {
    const items = this.items;
    items.push({ deadline, key });
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (items[parent].deadline <= items[index].deadline) break;
      [items[parent], items[index]] = [items[index], items[parent]];
      index = parent;
    }
  }

  peek(): DeadlineEntry | undefined {
    return this.items[0];
  }

  pop(): DeadlineEntry | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop() as DeadlineEntry;
    if (items.length > 0) {
      items[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < items.length && items[left].deadline < items[smallest].deadline) smallest = left;
        if (right < items.length && items[right].deadline < items[smallest].deadline) smallest = right;
        if (smallest === index) break;
        [items[smallest], items[index]] = [items[index], items[smallest]];
        index = smallest;
      }
    }
    return top;
  }
}
