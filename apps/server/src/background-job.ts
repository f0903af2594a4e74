export interface BackgroundJob {
  /** Stops the schedule and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `job` every `intervalMs`, never two runs at once; a failure goes to
 * `onError` and the next run comes as scheduled. The timer keeps no process alive.
 */
export function every(
  intervalMs: number,
  job: () => Promise<void>,
  onError: (error: unknown) => void,
): BackgroundJob {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = job()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
