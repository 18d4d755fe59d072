/** Closed-loop HTTP load with autocannon, with latency percentiles finer than it reports itself. */
import autocannon from 'autocannon';
import { percentile, round } from './stats.js';

/**
 * Runs autocannon against `url` for `durationS` seconds with `connections` connections.
 *
 * autocannon's own latency histogram keeps whole milliseconds (a 0.3 ms p50 shows as 0), too
 * coarse for sub-millisecond targets; its `response` event carries each request's time as a
 * float, so the percentiles here come from those. They count answers, 2xx and 3xx (a 304 is one), not errors.
 */
export function runLoad({ url, connections, durationS, headers }) {
  const latencies = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: durationS, ...(headers ? { headers } : {}) }, (err, result) => {
      if (err) return reject(err);
      resolve({
        connections,
        durationS,
        reqPerSec: round(result.requests.mean, 0),
        p50Ms: round(percentile(latencies, 50), 3),
        p99Ms: round(percentile(latencies, 99), 3),
        requests: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodes: result.statusCodeStats,
      });
    });
    instance.on('response', (_client, statusCode, _bytes, ms) => {
      if (statusCode >= 200 && statusCode < 400) latencies.push(ms);
    });
  });
}
