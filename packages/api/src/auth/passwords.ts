import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// OWASP's argon2id recommendation: 19 MiB, two passes, one lane.
// algorithm 2 is Argon2id (the package exports it as a const enum, which isolated modules cannot read).
export const PASSWORD_HASH_OPTIONS = {
  algorithm: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * At most this many hashes run at once (one worker thread each); the rest
 * wait their turn. One core is left to the event loop, so a login storm slows
 * logins, not message delivery.
 */
export const HASH_CONCURRENCY = Math.max(1, availableParallelism() - 1);

/**
 * Each worker takes its jobs one after the other from its own queue, so the
 * next hash starts the moment the last one ends, however busy the event loop
 * is (on libuv's pool, each next hash waited for the event loop to hand the
 * slot on: a fan-out in progress cost a third of the logins). Plain
 * JavaScript evaluated in the worker: the same in the bundle and in tests.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hashSync, verifySync } = require(workerData.argon2);
parentPort.on('message', ({ id, password, hashed, options }) => {
  try {
    const value = hashed === undefined ? hashSync(password, options) : verifySync(hashed, password, options);
    parentPort.postMessage({ id, value });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});`;

interface Job {
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

class HashWorker {
  readonly #worker: Worker;
  readonly #jobs = new Map<number, Job>();
  #nextId = 0;
  #dead = false;

  constructor(argon2Path: string) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { argon2: argon2Path } });
    this.#worker.on('message', (reply: { id: number; value?: string | boolean; error?: string }) => {
      const job = this.#jobs.get(reply.id);
      this.#jobs.delete(reply.id);
      if (this.#jobs.size === 0) this.#worker.unref();
      if (reply.error !== undefined) job?.reject(new Error(reply.error));
      else job?.resolve(reply.value!);
    });
    const fail = (error: Error) => {
      this.#dead = true;
      for (const job of this.#jobs.values()) job.reject(error);
      this.#jobs.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`password worker exited (${code})`)));
    // An idle worker never keeps the process alive; one with jobs does (see run). After the
    // listeners: adding a 'message' listener refs the worker again.
    this.#worker.unref();
  }

  get alive(): boolean {
    return !this.#dead;
  }

  get queued(): number {
    return this.#jobs.size;
  }

  run(password: string, hashed: string | undefined): Promise<string | boolean> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, password, hashed, options: PASSWORD_HASH_OPTIONS });
    });
  }
}

const workers: HashWorker[] = [];
let argon2Path: string | undefined;

/** The worker with the shortest queue; started on first use, replaced if it died. */
function pickWorker(): HashWorker {
  argon2Path ??= createRequire(import.meta.url).resolve('@node-rs/argon2');
  for (let i = 0; i < HASH_CONCURRENCY; i++) {
    if (!workers[i]?.alive) workers[i] = new HashWorker(argon2Path);
  }
  return workers.reduce((best, w) => (w.queued < best.queued ? w : best));
}

export async function hashPassword(password: string): Promise<string> {
  return (await pickWorker().run(password, undefined)) as string;
}

let decoy: Promise<string> | undefined;

/**
 * Verifies a password against a stored hash. Without a hash (unknown user) it
 * verifies against a decoy, so both answers take the same time.
 */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (storedHash === undefined) {
    decoy ??= hashPassword('decoy password that matches nothing');
    const target = await decoy;
    await pickWorker()
      .run(password, target)
      .catch(() => false);
    return false;
  }
  try {
    return (await pickWorker().run(password, storedHash)) === true;
  } catch {
    return false;
  }
}
