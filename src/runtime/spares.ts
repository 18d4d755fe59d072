/**
 * Pre-started, empty instances, kept per memory size (the heap limit is fixed when a process
 * starts). Taking one costs the handler's import only; the pool refills itself in the background.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Instance, type InstanceOptions } from './instance.js';
import type { Sandbox } from './sandbox.js';

export interface SparesOptions {
  readonly dir: string;
  readonly bootstrapPath: string;
  /** How many spares to keep for each memory size in use. */
  readonly perMemorySize: number;
  readonly onOutput: InstanceOptions['onOutput'];
  readonly onExit: InstanceOptions['onExit'];
  readonly maxOutputBytes: number;
  /** The kernel's wall around each new instance. */
  readonly sandbox: Sandbox;
}

export class Spares {
  private readonly options: SparesOptions;
  private readonly pools = new Map<number, Instance[]>();
  private closed = false;

  constructor(options: SparesOptions) {
    this.options = options;
  }

  get count(): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.length;
    return n;
  }

  /** Spares that have booted and wait for a function. */
  get ready(): number {
    let n = 0;
    for (const pool of this.pools.values()) for (const i of pool) if (i.booted) n++;
    return n;
  }

  /** Keeps spares for exactly these memory sizes; others are stopped. */
  use(memorySizes: Iterable<number>): void {
    const wanted = new Set(memorySizes);
    for (const [mb, pool] of this.pools) {
      if (wanted.has(mb)) continue;
      this.pools.delete(mb);
      for (const i of pool) void i.dispose();
    }
    for (const mb of wanted) this.refillPool(mb);
  }

  /**
   * A booted spare of `memoryMb`; started now if none is waiting. The pool is not refilled here:
   * a process booting beside the cold start it serves would slow it down on a small machine, so
   * the caller calls `refill()` once the invocation is done.
   */
  async take(memoryMb: number): Promise<Instance> {
    const pool = this.pools.get(memoryMb);
    const i = pool?.findIndex((s) => s.booted) ?? -1;
    const instance = pool && i >= 0 ? pool.splice(i, 1)[0]! : (pool?.shift() ?? this.start(memoryMb));
    await instance.ready;
    return instance;
  }

  /** Tops every pool up to its size. Cheap when they are full. */
  refill(): void {
    for (const [mb, pool] of this.pools) if (pool.length < this.options.perMemorySize) this.refillPool(mb);
  }

  /** Called when a spare died before being taken. */
  forget(instance: Instance): void {
    const pool = this.pools.get(instance.memoryMb);
    const i = pool?.indexOf(instance) ?? -1;
    if (pool && i >= 0) {
      pool.splice(i, 1);
      void instance.dispose();
      // A spare that never booted would only fail again: wait for the next take to try.
      if (instance.booted) this.refillPool(instance.memoryMb);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()].flat();
    this.pools.clear();
    await Promise.all(all.map((i) => i.dispose()));
  }

  private refillPool(memoryMb: number): void {
    const pool = this.pools.get(memoryMb) ?? [];
    this.pools.set(memoryMb, pool);
    while (!this.closed && pool.length < this.options.perMemorySize) pool.push(this.start(memoryMb));
  }

  private start(memoryMb: number): Instance {
    const id = randomBytes(8).toString('hex');
    return new Instance({
      id,
      memoryMb,
      dir: path.join(this.options.dir, id),
      bootstrapPath: this.options.bootstrapPath,
      onOutput: this.options.onOutput,
      onExit: this.options.onExit,
      maxOutputBytes: this.options.maxOutputBytes,
      user: this.options.sandbox.kind === 'users' ? this.options.sandbox.next() : undefined,
      namespaces: this.options.sandbox.kind === 'namespaces',
    });
  }
}
