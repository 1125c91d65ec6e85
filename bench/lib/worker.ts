import type { Message } from './children.js';

/** The worker side of the IPC channel. */
export function send(message: Message): void {
  if (!process.send) throw new Error('bench workers must be started by a bench script (they talk over IPC)');
  process.send(message);
}

const queue: Message[] = [];
const waiters: Array<{ type: string; resolve: (m: Message) => void }> = [];

process.on('message', (message: Message) => {
  const index = waiters.findIndex((w) => w.type === message.type);
  if (index >= 0) waiters.splice(index, 1)[0]?.resolve(message);
  else queue.push(message);
});

export function next<T extends { type: string } = Message>(type: string): Promise<T> {
  const index = queue.findIndex((m) => m.type === type);
  if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0] as T);
  return new Promise<T>((resolve) => waiters.push({ type, resolve: resolve as (m: Message) => void }));
}

/** Reports an error to the parent before dying, so the bench prints the worker's reason. */
export function failOnError(): void {
  const fail = (error: unknown): void => {
    console.error(error);
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}
