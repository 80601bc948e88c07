// Named event counters: every dropped frame, refused connection or malformed request increments one.

export class Counters {
  /** One cell per name, so an increment is one lookup (the data path increments several per frame). */
  private readonly cells = new Map<string, { value: number }>();

  increment(name: string, by = 1): void {
    const cell = this.cells.get(name);
    if (cell) cell.value += by;
    else this.cells.set(name, { value: by });
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(
      [...this.cells.entries()]
        .map(([name, cell]) => [name, cell.value] as const)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  }
}
