/**
 * The gateway as the platform plugs it in: deploys the `http` events of the manifest's functions and
 * its `api` section as the app's HTTP API, rebuilt on every reload.
 */
import { PlatformError } from '../../core/errors.js';
import { LAMBDA_LIMITS } from '../../core/lambda.js';
import type { AppRevision, DeployChanges, ServiceModule } from '../module.js';
import { createGateway, type Gateway, type GatewayRoute } from './service.js';

export interface GatewayService {
  /** The deployed HTTP API; undefined until the first deploy. */
  current(): Gateway | undefined;
  routes(): readonly GatewayRoute[];
}

const describe = (r: GatewayRoute) => `${r.routeKey} → ${r.fn}`;

export const gatewayModule: ServiceModule<GatewayService> = {
  name: 'gateway',
  sections: ['api'],
  create(ctx) {
    let gateway: Gateway | undefined;
    let routes: GatewayRoute[] = [];
    const service: GatewayService = { current: () => gateway, routes: () => routes };
    return {
      service,
      async deploy(app: AppRevision): Promise<DeployChanges> {
        const { manifest } = app;
        const next = Object.values(manifest.functions).flatMap((fn) =>
          fn.events.filter((e) => e.type === 'http').map((e) => ({ routeKey: e.routeKey, fn: fn.name })),
        );
        gateway = createGateway({
          routes: next,
          cors: manifest.api.cors,
          timeoutSeconds: manifest.api.timeoutSeconds,
          apiId: apiIdOf(manifest.app),
          accountId: ctx.accountId,
          region: ctx.region,
          clock: ctx.clock,
          invoke: (fn, event, requestId) => {
            const payload = JSON.stringify(event);
            // Lambda refuses a synchronous payload over 6 MB before any code runs.
            if (payload.length > LAMBDA_LIMITS.MAX_SYNC_REQUEST_BYTES / 4 && Buffer.byteLength(payload) > LAMBDA_LIMITS.MAX_SYNC_REQUEST_BYTES) {
              throw new PlatformError('PAYLOAD_TOO_LARGE', `Request must be smaller than ${LAMBDA_LIMITS.MAX_SYNC_REQUEST_BYTES} bytes for the InvokeFunction operation`);
            }
            return ctx.executor.invoke(fn, { requestId, payload });
          },
          onRequest: (info) => ctx.events.emit('request', info),
        });
        const before = new Set(routes.map(describe));
        const after = new Set(next.map(describe));
        routes = next;
        return { added: [...after].filter((r) => !before.has(r)), removed: [...before].filter((r) => !after.has(r)) };
      },
      api: () => gateway,
      summary: () => routes.map(describe),
    };
  },
};

/** API Gateway ids are 10 lower-case alphanumerics; derive a stable one from the app name. */
function apiIdOf(app: string): string {
  let h = 2166136261;
  for (const c of app) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return (h.toString(36) + 'nuvolaapi0').slice(0, 10);
}
