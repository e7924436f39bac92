/**
 * An async iterator that holds at most the latest value: a slow subscriber skips the states it
 * had no time to read and always gets the newest one, and memory stays bounded whatever the rate.
 */
export class LatestValueQueue<T> implements AsyncIterableIterator<T> {
  private latest: { value: T } | null = null;
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private done = false;

  constructor(private readonly onClose: () => void = () => {}) {}

  push(value: T): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
    } else {
      this.latest = { value };
    }
  }

  /** Ends the iteration: the consumer's pending `next()` resolves done. */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.latest = null;
    this.onClose();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.latest) {
      const { value } = this.latest;
      this.latest = null;
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
