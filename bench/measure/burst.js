/**
 * A burst on a cold app: a fresh Nuvola takes `connections` connections on `GET /hello` from the
 * moment it is ready, with no instance of `hello` yet and its spares perhaps still booting. Every
 * request should get its answer, and none should wait long for the instances to start.
 */
import { startNuvola, stopChild } from '../lib/children.js';
import { listInstances } from '../lib/instances.js';
import { runLoad } from '../lib/load.js';

export async function measureBurst({ appDir, connections, durationS }) {
  const nuvola = await startNuvola(appDir);
  try {
    const load = await runLoad({ url: `${nuvola.url}/hello`, connections, durationS });
    // Right after the load: `hello`'s instances have not been idle long enough to be reaped.
    const instances = listInstances(nuvola.child.pid);
    return {
      ...load,
      // autocannon counts a timeout as an error too.
      failed: load.errors + load.non2xx,
      instances: instances.filter((i) => i.loaded).length,
      spares: instances.filter((i) => !i.loaded).length,
    };
  } finally {
    await stopChild(nuvola.child);
  }
}
