/**
 * How busy the machine's CPUs are, from the kernel's per-CPU time counters (`os.cpus()`), sampled by
 * the caller's watch: the executor asks it before starting one more instance process.
 */
import os from 'node:os';

/** Below this share of idle CPU time the machine counts as saturated. */
const IDLE_SHARE_SATURATED = 0.2;
/** Weight of the newest sample in the moving average (samples of ~100 ms are noisy). */
const NEW_SAMPLE_WEIGHT = 0.5;

export class CpuMeter {
  private last = totals();
  private busyShare = 0;

  /** Reads the counters; the share is over the time since the previous call. */
  sample(): void {
    const now = totals();
    const total = now.total - this.last.total;
    if (total > 0) this.busyShare += NEW_SAMPLE_WEIGHT * (1 - (now.idle - this.last.idle) / total - this.busyShare);
    this.last = now;
  }

  get saturated(): boolean {
    return this.busyShare > 1 - IDLE_SHARE_SATURATED;
  }
}

function totals(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}
