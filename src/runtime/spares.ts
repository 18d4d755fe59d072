/**
 * Pre-started, empty instances, kept per memory size (the heap limit is fixed when a process
 * starts). Taking one costs the handler's import only; the pool refills itself in the background.
 * A pool holds `perMemorySize` spares, and more while cold starts come faster: as many as were taken
 * in the last `GROWTH_WINDOW_MS`, up to `MAX_SPARES`, so that a burst of cold starts like the last
 * one meets booted spares; it shrinks back once they stop.
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

/** Cold starts are counted over this long to size the pools. */
export const GROWTH_WINDOW_MS = 30_000;
/** At most this many spares per memory size, however many cold starts (each is an idle process of ~30 MB). */
export const MAX_SPARES = 16;
/** Spares started per refill: each start blocks the platform's thread for milliseconds. */
const STARTS_PER_REFILL = 2;

export class Spares {
  private readonly options: SparesOptions;
  private readonly pools = new Map<number, Instance[]>();
  /** When spares of each memory size were taken, within the growth window. */
  private readonly taken = new Map<number, number[]>();
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
    const now = performance.now();
    const taken = this.taken.get(memoryMb) ?? [];
    taken.push(now);
    while (taken.length > 0 && taken[0]! < now - GROWTH_WINDOW_MS) taken.shift();
    this.taken.set(memoryMb, taken);
    const pool = this.pools.get(memoryMb);
    const i = pool?.findIndex((s) => s.booted) ?? -1;
    const instance = pool && i >= 0 ? pool.splice(i, 1)[0]! : (pool?.shift() ?? this.start(memoryMb));
    await instance.ready;
    return instance;
  }

  /**
   * Tops the pools up towards their size, a few starts at a time; returns whether any is still short
   * (the caller comes back later). Spares beyond a pool's size, once the cold starts slowed down, stop.
   */
  refill(): boolean {
    let budget = STARTS_PER_REFILL;
    let short = false;
    for (const [mb, pool] of this.pools) {
      const size = this.size(mb);
      while (pool.length > size) void pool.pop()!.dispose();
      budget -= this.refillPool(mb, budget);
      if (pool.length < size) short = true;
    }
    return short;
  }

  /** The size of the pool of `memoryMb`: the base, or the cold starts of the growth window. */
  private size(memoryMb: number): number {
    const now = performance.now();
    const taken = this.taken.get(memoryMb) ?? [];
    while (taken.length > 0 && taken[0]! < now - GROWTH_WINDOW_MS) taken.shift();
    return Math.max(this.options.perMemorySize, Math.min(taken.length, MAX_SPARES));
  }

  /** Called when a spare died before being taken. */
  forget(instance: Instance): void {
    const pool = this.pools.get(instance.memoryMb);
    const i = pool?.indexOf(instance) ?? -1;
    if (pool && i >= 0) {
      pool.splice(i, 1);
      void instance.dispose();
      // A spare that never booted would only fail again: wait for the next take to try.
      if (instance.booted) this.refillPool(instance.memoryMb, 1);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()].flat();
    this.pools.clear();
    await Promise.all(all.map((i) => i.dispose()));
  }

  /** Starts up to `max` spares for the pool of `memoryMb`; returns how many. */
  private refillPool(memoryMb: number, max = Infinity): number {
    const pool = this.pools.get(memoryMb) ?? [];
    this.pools.set(memoryMb, pool);
    let started = 0;
    while (!this.closed && started < max && pool.length < this.size(memoryMb)) {
      pool.push(this.start(memoryMb));
      started++;
    }
    return started;
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
