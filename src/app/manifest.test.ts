import { describe, it, expect } from 'vitest';
import { isPlatformError } from '../core/errors.js';
import { parseManifest } from './load.js';
import { DEFAULT_RUNTIME } from './manifest.js';
import type { ManifestIssue } from './load.js';

/** The error lines of an invalid manifest, without the header line. */
function problems(text: string): string[] {
  try {
    parseManifest(text, 'nuvola.yaml');
  } catch (err) {
    if (!isPlatformError(err, 'MANIFEST_INVALID')) throw err;
    const [header, ...lines] = err.message.split('\n');
    expect(header).toBe('Invalid app manifest nuvola.yaml:');
    expect(err.details['file']).toBe('nuvola.yaml');
    expect((err.details['issues'] as ManifestIssue[]).length).toBe(lines.length);
    return lines;
  }
  throw new Error('expected the manifest to be rejected');
}

describe('parseManifest: valid manifests', () => {
  it('normalizes a full manifest', () => {
    const manifest = parseManifest(
      `app: hello
functions:
  getItem:
    handler: src/items.get
    runtime: nodejs22.x
    memory: 256
    timeout: 5
    environment: { TABLE: items, RETRIES: 3, VERBOSE: true }
    reservedConcurrency: 10
    provisionedConcurrency: 1
    instanceConcurrency: 64
    events:
      - http: GET /items/{id}
      - http: { method: post, path: /items }
      - http: any /files/{proxy+}
  fallback:
    handler: ./src/fallback.handler
    events:
      - http: $default
api:
  cors: { allowOrigins: ["https://example.com"], allowMethods: [get, post], allowCredentials: true, maxAge: 600 }
  timeout: 10
queues:
  jobs: { visibilityTimeout: 60, deadLetter: { queue: dead, maxReceiveCount: 3 } }
  dead: {}
buses:
  orders: {}
rules:
  big: { bus: orders, pattern: { detail: { total: [{ numeric: [">", 100] }] } }, targets: [{ queue: jobs, inputPath: $.detail }] }
sites:
  web: { dir: ./dist/, spa: true, errorPage: 404.html, build: npm run build }
  docs: { dir: docs, path: /docs/ }
`,
      'nuvola.yaml',
    );
    expect(manifest).toEqual({
      app: 'hello',
      functions: {
        getItem: {
          name: 'getItem',
          handler: 'src/items.get',
          handlerFile: 'src/items',
          exportName: 'get',
          runtime: 'nodejs22.x',
          memory: 256,
          timeout: 5,
          ephemeralStorage: 512,
          environment: { TABLE: 'items', RETRIES: '3', VERBOSE: 'true' },
          reservedConcurrency: 10,
          provisionedConcurrency: 1,
          instanceConcurrency: 64,
          maximumRetryAttempts: 2,
          maximumEventAge: 21600,
          events: [
            { type: 'http', routeKey: 'GET /items/{id}', method: 'GET', path: '/items/{id}' },
            { type: 'http', routeKey: 'POST /items', method: 'POST', path: '/items' },
            { type: 'http', routeKey: 'ANY /files/{proxy+}', method: 'ANY', path: '/files/{proxy+}' },
          ],
        },
        fallback: {
          name: 'fallback',
          handler: './src/fallback.handler',
          handlerFile: 'src/fallback',
          exportName: 'handler',
          runtime: DEFAULT_RUNTIME,
          memory: 128,
          timeout: 3,
          ephemeralStorage: 512,
          environment: {},
          instanceConcurrency: 1,
          maximumRetryAttempts: 2,
          maximumEventAge: 21600,
          events: [{ type: 'http', routeKey: '$default' }],
        },
      },
      api: {
        timeoutSeconds: 10,
        cors: {
          allowOrigins: ['https://example.com'],
          allowMethods: ['GET', 'POST'],
          allowHeaders: [],
          exposeHeaders: [],
          allowCredentials: true,
          maxAge: 600,
        },
      },
      queues: {
        jobs: { name: 'jobs', visibilityTimeout: 60, deadLetter: { queue: 'dead', maxReceiveCount: 3 } },
        dead: { name: 'dead' },
      },
      buses: ['orders'],
      rules: { big: { name: 'big', bus: 'orders', pattern: { detail: { total: [{ numeric: ['>', 100] }] } }, enabled: true, targets: [{ queue: 'jobs', inputPath: '$.detail' }] } },
      sites: {
        web: { name: 'web', dir: 'dist', path: '/', spa: true, errorPage: '404.html', build: 'npm run build' },
        docs: { name: 'docs', dir: 'docs', path: '/docs', spa: false },
      },
    });
  });

  it("refuses a dead-letter queue that is not the app's, or of another type, and FIFO settings on a standard queue", () => {
    expect(() => parseManifest('app: a\nqueues:\n  q: { deadLetter: { queue: nope, maxReceiveCount: 1 } }\n', 'nuvola.yaml')).toThrow(/queues\.q\.deadLetter\.queue — expected the name of another queue of the app, got "nope"/);
    expect(() => parseManifest('app: a\nqueues:\n  q.fifo: { deadLetter: { queue: d, maxReceiveCount: 1 } }\n  d: {}\n', 'nuvola.yaml')).toThrow(/expected a FIFO queue, as the queue itself/);
    expect(() => parseManifest('app: a\nqueues:\n  q: { contentBasedDeduplication: true }\n', 'nuvola.yaml')).toThrow(/queues\.q\.contentBasedDeduplication — expected only on a FIFO queue/);
    expect(() => parseManifest('app: a\nqueues:\n  "bad name": {}\n', 'nuvola.yaml')).toThrow(/expected a queue name/);
  });

  it('takes schedule events as serverless.yml writes them, and refuses what EventBridge refuses', () => {
    const m = parseManifest('app: a\nfunctions:\n  f:\n    handler: f.handler\n    events:\n      - schedule: rate(5 minutes)\n      - schedule: { rate: "cron(0 9 ? * MON-FRI *)", timezone: Europe/Paris, input: { report: daily }, enabled: false }\n', 'nuvola.yaml');
    expect(m.functions['f']!.events).toEqual([
      { type: 'schedule', expression: 'rate(5 minutes)', enabled: true },
      { type: 'schedule', expression: 'cron(0 9 ? * MON-FRI *)', timeZone: 'Europe/Paris', input: '{"report":"daily"}', enabled: false },
    ]);
    expect(() => parseManifest('app: a\nfunctions:\n  f:\n    handler: f.handler\n    events:\n      - schedule: rate(1 minutes)\n', 'nuvola.yaml')).toThrow(/expected rate\(…\) or cron\(…\) as EventBridge takes them, got "rate\(1 minutes\)"/);
    expect(() => parseManifest('app: a\nfunctions:\n  f:\n    handler: f.handler\n    events:\n      - schedule: { rate: rate(1 hour), timezone: Mars/Olympus }\n', 'nuvola.yaml')).toThrow(/expected an IANA time zone/);
  });

  it("refuses a rule whose pattern EventBridge refuses, or that names what the app lacks", () => {
    expect(() => parseManifest('app: a\nrules:\n  r: { pattern: { source: [] }, targets: [{ bus: default }] }\n', 'nuvola.yaml')).toThrow(/rules\.r\.pattern — Event pattern is not valid\. Reason: Empty arrays are not allowed/);
    expect(() => parseManifest('app: a\nrules:\n  r: { bus: nope, pattern: { source: [x] }, targets: [{ function: f }] }\n', 'nuvola.yaml')).toThrow(/rules\.r\.bus — expected a bus of the app/);
    expect(() => parseManifest('app: a\nrules:\n  r: { pattern: { source: [x] }, targets: [{ function: f }] }\n', 'nuvola.yaml')).toThrow(/rules\.r\.targets\[0\]\.function — expected the name of a function of the app, got "f"/);
  });

  it('refuses a site folder outside the app directory', () => {
    expect(() => parseManifest('app: a\nsites:\n  web: { dir: ../elsewhere }\n', 'nuvola.yaml')).toThrow(/sites\.web\.dir — expected a folder inside the app directory/);
    expect(() => parseManifest('app: a\nsites:\n  web: { dir: /etc }\n', 'nuvola.yaml')).toThrow(/sites\.web\.dir/);
    expect(() => parseManifest('app: a\nsites:\n  web: { dir: public, path: docs }\n', 'nuvola.yaml')).toThrow(/sites\.web\.path — expected a path such as \/ or \/docs/);
    expect(() => parseManifest('app: a\nsites:\n  a: { dir: x }\n  b: { dir: y, path: / }\n', 'nuvola.yaml')).toThrow(/sites\.b\.path — site "a" is already served at \//);
  });

  it('applies Lambda and API Gateway defaults', () => {
    const manifest = parseManifest('app: hello\nfunctions:\n  a:\n    handler: index.handler\n', 'nuvola.yaml');
    expect(manifest.functions['a']).toEqual({
      name: 'a',
      handler: 'index.handler',
      handlerFile: 'index',
      exportName: 'handler',
      runtime: DEFAULT_RUNTIME,
      memory: 128,
      timeout: 3,
      ephemeralStorage: 512,
      environment: {},
      instanceConcurrency: 1,
      maximumRetryAttempts: 2,
      maximumEventAge: 21600,
      events: [],
    });
    expect(manifest.api).toEqual({ timeoutSeconds: 30 });
  });

  it('gives every function the app-wide defaults it does not set itself, environment merged', () => {
    const manifest = parseManifest(
      `app: hello
defaults:
  memory: 512
  instanceConcurrency: 32
  environment: { STAGE: dev, TABLE: items }
functions:
  a:
    handler: index.handler
  b:
    handler: index.handler
    memory: 1024
    instanceConcurrency: 1
    environment: { TABLE: orders }
`,
      'nuvola.yaml',
    );
    expect(manifest.functions['a']).toMatchObject({ memory: 512, instanceConcurrency: 32, timeout: 3, environment: { STAGE: 'dev', TABLE: 'items' } });
    expect(manifest.functions['b']).toMatchObject({ memory: 1024, instanceConcurrency: 1, environment: { STAGE: 'dev', TABLE: 'orders' } });
  });

  it('reads `cors: true` as any origin, method and header', () => {
    const manifest = parseManifest('app: hello\napi:\n  cors: true\n', 'nuvola.yaml');
    expect(manifest.api.cors).toEqual({
      allowOrigins: ['*'],
      allowMethods: ['*'],
      allowHeaders: ['*'],
      exposeHeaders: [],
      allowCredentials: false,
    });
    expect(parseManifest('app: hello\napi:\n  cors: false\n', 'nuvola.yaml').api.cors).toBeUndefined();
  });

  it('splits the handler at the last dot, like Lambda', () => {
    const fn = parseManifest('app: a\nfunctions:\n  f:\n    handler: src/v1.2/items.get\n', 'nuvola.yaml').functions['f'];
    expect(fn).toMatchObject({ handlerFile: 'src/v1.2/items', exportName: 'get' });
  });

  it('returns a frozen manifest', () => {
    const manifest = parseManifest('app: a\nfunctions:\n  f:\n    handler: i.h\n', 'nuvola.yaml');
    expect(Object.isFrozen(manifest.functions['f']?.environment)).toBe(true);
  });
});

describe('parseManifest: every problem as file:line:col path — message', () => {
  it('reports bad values, unknown keys, bad and duplicate routes and missing keys at once', () => {
    expect(
      problems(`app: hello
functions:
  getItem:
    handler: src/items.get
    memory: 99999
    memroy: 256
    events:
      - http: GET /items/{id}
      - http: GET /a/{proxy+}/b
      - http: FETCH /items
      - kafka: orders
  listItems:
    events:
      - http: GET /items/{key}
provider: aws
`),
    ).toEqual([
      'nuvola.yaml:5:13 functions.getItem.memory — expected an integer from 128 to 10240 (MB), got 99999',
      'nuvola.yaml:6:5 functions.getItem.memroy — unknown key "memroy"; allowed keys: handler, runtime, memory, timeout, ephemeralStorage, environment, reservedConcurrency, provisionedConcurrency, instanceConcurrency, maximumRetryAttempts, maximumEventAge, deadLetterQueue, destinations, events, package',
      'nuvola.yaml:9:15 functions.getItem.events[1].http — expected a greedy parameter like {proxy+} only as the last segment, got "/a/{proxy+}/b"',
      'nuvola.yaml:10:15 functions.getItem.events[2].http — expected a method among GET POST PUT PATCH DELETE HEAD OPTIONS ANY, got "FETCH"',
      'nuvola.yaml:11:9 functions.getItem.events[3] — unknown event type "kafka"; supported: http, sqs, eventBridge, schedule',
      'nuvola.yaml:12:3 functions.listItems.handler — expected "path/to/file.export", e.g. src/items.get; the key is missing',
      'nuvola.yaml:14:15 functions.listItems.events[0].http — route "GET /items/{key}" conflicts with "GET /items/{id}" declared by function "getItem" (functions.getItem.events[0])',
      'nuvola.yaml:15:1 provider — unknown key "provider"; allowed keys: app, functions, api, defaults, package, buses, rules, queues, sites',
    ]);
  });

  it('reports bad instance concurrency, and bad defaults once, at defaults', () => {
    expect(
      problems(`app: hello
defaults:
  memory: 64
  instanceConcurrency: 0
functions:
  f:
    handler: f.handler
    instanceConcurrency: 1601
`),
    ).toEqual([
      'nuvola.yaml:3:11 defaults.memory — expected an integer from 128 to 10240 (MB), got 64',
      'nuvola.yaml:4:24 defaults.instanceConcurrency — expected an integer from 1 to 1600 (invocations at once per instance), got 0',
      'nuvola.yaml:8:26 functions.f.instanceConcurrency — expected an integer from 1 to 1600 (invocations at once per instance), got 1601',
    ]);
  });

  it('names both functions of a duplicate route', () => {
    expect(
      problems(`app: hello
functions:
  a:
    handler: a.handler
    events: [{ http: GET /items }, { http: $default }]
  b:
    handler: b.handler
    events:
      - http: { method: get, path: /items }
      - http: $default
`),
    ).toEqual([
      'nuvola.yaml:9:9 functions.b.events[0].http — route "GET /items" is already declared by function "a" (functions.a.events[0])',
      'nuvola.yaml:10:15 functions.b.events[1].http — route "$default" is already declared by function "a" (functions.a.events[1])',
    ]);
  });

  it('checks names, handler paths, route parameters, limits and CORS', () => {
    expect(
      problems(`app: 1hello
functions:
  "bad name!":
    handler: x.handler
  f:
    handler: ../outside.handler
    runtime: nodejs18.x
    timeout: 1.5
    environment:
      AWS_REGION: eu-west-1
    reservedConcurrency: 1
    provisionedConcurrency: 2
    events:
      - http: GET /a/{id}/b/{id}
      - http:
      - {}
api:
  timeout: 60
  cors: { allowOrigins: ["*"], allowCredentials: true }
`),
    ).toEqual([
      'nuvola.yaml:1:6 app — expected an app name: a letter, then up to 63 letters, digits, "-" or "_", got "1hello"',
      'nuvola.yaml:3:3 functions["bad name!"] — expected a function name of 1 to 64 letters, digits, "-" or "_", got "bad name!"',
      'nuvola.yaml:6:14 functions.f.handler — expected a module path inside the app directory, got "../outside.handler"',
      'nuvola.yaml:7:14 functions.f.runtime — expected one of nodejs20.x, nodejs22.x, nodejs24.x, got "nodejs18.x"',
      'nuvola.yaml:8:14 functions.f.timeout — expected an integer from 1 to 900 (seconds), got 1.5',
      'nuvola.yaml:10:7 functions.f.environment.AWS_REGION — expected a variable name Lambda does not reserve for itself, got "AWS_REGION"',
      'nuvola.yaml:12:29 functions.f.provisionedConcurrency — expected at most reservedConcurrency (1), got 2',
      'nuvola.yaml:14:15 functions.f.events[0].http — expected each path parameter once, got {id} twice in "/a/{id}/b/{id}"',
      'nuvola.yaml:15:9 functions.f.events[1].http — expected "METHOD /path" (e.g. GET /items/{id}), "$default" or { method, path }, got an empty value',
      'nuvola.yaml:16:9 functions.f.events[2] — expected exactly one event type per list item, got none',
      'nuvola.yaml:18:12 api.timeout — expected an integer from 1 to 30 (seconds), got 60',
      'nuvola.yaml:19:50 api.cors.allowCredentials — expected allowCredentials false when allowOrigins contains "*" (browsers reject credentials with a wildcard origin)',
    ]);
  });

  it('points a missing top-level key at the document start', () => {
    expect(problems('# my app\nfunctions: {}\n')).toEqual(['nuvola.yaml:2:1 app — expected an app name; the key is missing']);
    expect(problems('- app\n')).toEqual(['nuvola.yaml:1:1 (top level) — expected a mapping with app and functions, got a list']);
  });

  it('reports a YAML syntax error with its position', () => {
    expect(problems('app: hello\nfunctions:\n  a: [1\n')).toEqual([
      'nuvola.yaml:4:1 — YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    expect(problems('app: hello\napp: again\n')).toEqual(['nuvola.yaml:2:1 — YAML: Map keys must be unique']);
  });
});
