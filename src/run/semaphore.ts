/**
 * At most `limit` async tasks at a time; the others wait their turn, first come first
 * served. For publishing partitions while a run is still scoring (run-job.ts).
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new TypeError(`Semaphore: limit must be a positive integer, got ${String(limit)}`);
  }

  /** Run `task` when a slot is free; settles as it does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter (never freed in between).
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
