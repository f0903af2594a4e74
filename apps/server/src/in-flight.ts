/**
 * Work a graceful shutdown waits for: once draining starts, no new work is
 * taken, and the server closes its database only after the work in progress
 * finished (or the grace ran out).
 */
export class InFlight {
  #count = 0;
  #draining = false;
  #idle: Array<() => void> = [];

  /** True once `drain` was called: callers refuse new work. */
  get draining(): boolean {
    return this.#draining;
  }

  get count(): number {
    return this.#count;
  }

  /** Counts `work` until it settles. */
  track(work: Promise<unknown>): void {
    this.#count++;
    const done = () => {
      if (--this.#count === 0) for (const wake of this.#idle.splice(0)) wake();
    };
    work.then(done, done);
  }

  /** Refuses new work from now on; resolves true once nothing is in flight, false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    this.#draining = true;
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
