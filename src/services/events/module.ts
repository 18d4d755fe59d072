/**
 * The events service as the platform plugs it in: deploys the manifest's `buses`, `rules` and the
 * functions' `eventBridge` events, delivers matched events through the functions' durable
 * asynchronous path and the queues, and serves the EventBridge API (signing name `events`).
 */
import { handleEventsRequest } from '../../aws/events.js';
import { PlatformError } from '../../core/errors.js';
import type { RuleTarget } from '../../core/app.js';
import type { FunctionsService } from '../functions/index.js';
import type { ServiceModule } from '../module.js';
import { eventsMigrations } from './migrations.js';
import { EventsService, type Rule } from './service.js';

export const eventsModule: ServiceModule<EventsService> = {
  name: 'events',
  sections: ['buses', 'rules'],
  migrations: eventsMigrations,
  create(ctx) {
    const arn = (service: string, resource: string) => `arn:aws:${service}:${ctx.region}:${ctx.accountId}:${resource}`;
    const events = new EventsService({
      db: ctx.db,
      clock: ctx.clock,
      region: ctx.region,
      accountId: ctx.accountId,
      onWarning: (message) => ctx.events.emit('warning', message),
      // A target holds the event once it is in a function's asynchronous queue or in a queue.
      deliver: (targetArn, payload) => ctx.use<FunctionsService>('functions').deliver(targetArn, payload, 'events.amazonaws.com'),
    });
    let lines: string[] = [];
    // Archived events past their retention go, hourly.
    let cancelExpiry: (() => void) | undefined;
    const expire = (): void => {
      cancelExpiry = ctx.clock.setTimer(3_600_000, () => {
        events.archives.expire().then(expire, (err: unknown) => {
          ctx.events.emit('warning', `events: expiring archived events failed: ${String(err)}`);
          expire();
        });
      });
    };
    expire();
    return {
      service: events,
      async deploy(app) {
        const targetArn = (t: RuleTarget) =>
          t.function !== undefined ? arn('lambda', `function:${t.function}`) : t.queue !== undefined ? arn('sqs', t.queue) : events.busArn(t.bus!);
        const rules: Omit<Rule, 'origin'>[] = Object.values(app.manifest.rules).map((r) => ({
          name: r.name,
          bus: r.bus,
          pattern: JSON.stringify(r.pattern),
          enabled: r.enabled,
          targets: r.targets.map((t, i) => ({ id: `${i + 1}`, arn: targetArn(t), input: t.input, inputPath: t.inputPath, inputTransformer: t.inputTransformer })),
        }));
        for (const fn of Object.values(app.manifest.functions)) {
          fn.events.forEach((e, i) => {
            if (e.type !== 'eventBridge') return;
            rules.push({ name: `${fn.name}.eventBridge.${i + 1}`, bus: e.bus, pattern: JSON.stringify(e.pattern), enabled: true, targets: [{ id: '1', arn: arn('lambda', `function:${fn.name}`) }] });
          });
        }
        await events.deploy(app.manifest.buses, rules);
        lines = rules.map((r) => `${r.bus}/${r.name} → ${r.targets.map((t) => t.arn.split(':').pop()).join(', ')}`);
      },
      aws: { events: (req) => handleEventsRequest(events, req) },
      control: [
        {
          method: 'GET',
          path: 'events',
          handle: async () => {
            const buses = [];
            for (const bus of await events.buses()) {
              const rules = (await events.rules(bus)).map((r) => ({ name: r.name, enabled: r.enabled, pattern: r.pattern, targets: r.targets.map((t) => t.arn), origin: r.origin }));
              buses.push({ name: bus, arn: events.busArn(bus), rules });
            }
            return { kind: 'json', body: { buses } };
          },
        },
        {
          method: 'POST',
          path: 'events',
          // One event to put, as a PutEvents entry (`nuvola events put`).
          async handle(req) {
            const body = await req.body(256 * 1024);
            if (!body) throw new PlatformError('PAYLOAD_TOO_LARGE', 'An event is at most 256 KB');
            let entry: unknown;
            try {
              entry = JSON.parse(body.toString('utf8'));
            } catch {
              throw new PlatformError('INVALID_REQUEST', 'The event is not JSON');
            }
            const [result] = await events.put([entry as Record<string, unknown>]);
            return { kind: 'json', body: result };
          },
        },
      ],
      summary: () => lines,
      close: () => {
        cancelExpiry?.();
        return Promise.resolve();
      },
    };
  },
};
