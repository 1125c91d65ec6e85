import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { BENCH_DIR } from './results.js';

export interface Message {
  type: string;
  [key: string]: unknown;
}

/** A bench worker process (bench/workers/<name>.ts run with tsx) talking over the IPC channel. */
export class Worker {
  readonly name: string;
  readonly child: ChildProcess;
  readonly #queue: Message[] = [];
  readonly #waiters: Array<{ type: string; resolve: (m: Message) => void; reject: (e: Error) => void }> = [];
  #exit: Error | undefined;

  constructor(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.name = name;
    const file = path.join(BENCH_DIR, 'workers', `${name}.ts`);
    // BENCH_CPU_PROF=DIR writes a V8 CPU profile of every worker into DIR, to see where a measure goes.
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    this.child = spawn(process.execPath, [...profile, '--import', 'tsx', file, ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    });
    this.child.on('message', (message: Message) => {
      const index = this.#waiters.findIndex((w) => w.type === message.type);
      if (index >= 0) this.#waiters.splice(index, 1)[0]?.resolve(message);
      else this.#queue.push(message);
    });
    this.child.on('exit', (code, signal) => {
      this.#exit = new Error(`worker ${name} exited (code ${code}, signal ${signal})`);
      for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#exit);
    });
  }

  send(message: Message): void {
    this.child.send(message);
  }

  /** The next message of `type` (buffered if it already arrived). */
  next<T extends { type: string } = Message>(type: string): Promise<T> {
    const index = this.#queue.findIndex((m) => m.type === type);
    if (index >= 0) return Promise.resolve(this.#queue.splice(index, 1)[0] as T);
    if (this.#exit) return Promise.reject(this.#exit);
    return new Promise<T>((resolve, reject) => this.#waiters.push({ type, resolve: resolve as (m: Message) => void, reject }));
  }

  /** Asks the worker to finish and waits for it; kills it if it does not exit in time. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

export async function stopAll(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
}
