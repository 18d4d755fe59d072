import { describe, expect, it } from 'vitest';
import { compileRoutes, parseRouteKey } from './routes.js';
import { isPlatformError } from './errors.js';

function matcher(keys: string[]) {
  return compileRoutes(keys.map((routeKey) => ({ routeKey, target: routeKey })));
}

describe('route precedence', () => {
  // The example of AWS's "Routing API requests" section, plus the cases around it.
  const aws = matcher(['GET /pets/dog/1', 'GET /pets/dog/{id}', 'GET /pets/{proxy+}', 'ANY /{proxy+}', '$default']);
  it.each([
    ['GET', '/pets/dog/1', 'GET /pets/dog/1', null],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}', { id: '2' }],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}', { proxy: 'cat/1' }],
    ['POST', '/pets/dog/1', 'ANY /{proxy+}', { proxy: 'pets/dog/1' }],
    ['GET', '/test', 'ANY /{proxy+}', { proxy: 'test' }],
    ['GET', '/', '$default', null],
    ['HEAD', '/pets/dog/1', 'ANY /{proxy+}', { proxy: 'pets/dog/1' }],
  ])('%s %s → %s', (method, path, routeKey, pathParameters) => {
    expect(aws.match(method, path)).toEqual({ target: routeKey, routeKey, pathParameters });
  });

  const routes = matcher([
    'GET /items',
    'ANY /items',
    'GET /items/',
    'GET /items/{id}',
    'DELETE /items/{itemId}',
    'GET /items/special',
    'ANY /items/{id}/parts/{part}',
    'GET /items/{id}/{rest+}',
    'GET /items/special/{rest+}',
    'GET /a/{x}/c',
    'GET /a/b/{proxy+}',
    'GET /{x}/b/{proxy+}',
    'GET /files/{proxy+}',
    'GET /',
  ]);
  it.each([
    // exact literal; a specific method beats ANY, ANY serves the others
    ['GET', '/items', 'GET /items', null],
    ['POST', '/items', 'ANY /items', null],
    ['HEAD', '/items', 'ANY /items', null],
    // trailing slash is its own path
    ['GET', '/items/', 'GET /items/', null],
    ['POST', '/items/', null, null],
    // literal beats param on the same position; names are per route
    ['GET', '/items/special', 'GET /items/special', null],
    ['GET', '/items/42', 'GET /items/{id}', { id: '42' }],
    ['DELETE', '/items/42', 'DELETE /items/{itemId}', { itemId: '42' }],
    ['DELETE', '/items/special', 'DELETE /items/{itemId}', { itemId: 'special' }],
    ['PUT', '/items/42', null, null],
    // a param route beats any greedy one, even one with a longer literal prefix
    ['PUT', '/items/7/parts/wheel', 'ANY /items/{id}/parts/{part}', { id: '7', part: 'wheel' }],
    ['GET', '/a/b/c', 'GET /a/{x}/c', { x: 'b' }],
    // greedy: literal prefix beats param prefix beats a shorter prefix
    ['GET', '/a/b/d', 'GET /a/b/{proxy+}', { proxy: 'd' }],
    ['GET', '/z/b/d/e', 'GET /{x}/b/{proxy+}', { x: 'z', proxy: 'd/e' }],
    ['GET', '/items/special/x/y', 'GET /items/special/{rest+}', { rest: 'x/y' }],
    ['GET', '/items/9/x/y', 'GET /items/{id}/{rest+}', { id: '9', rest: 'x/y' }],
    // greedy takes one or more segments, keeps inner and trailing slashes
    ['GET', '/files/a', 'GET /files/{proxy+}', { proxy: 'a' }],
    ['GET', '/files/a/b/', 'GET /files/{proxy+}', { proxy: 'a/b/' }],
    ['GET', '/files', null, null],
    ['GET', '/files/', null, null],
    // a param never matches an empty segment
    ['GET', '/items//parts', null, null],
    ['GET', '/', 'GET /', null],
    ['GET', '/nope', null, null],
  ])('%s %s → %s', (method, path, routeKey, pathParameters) => {
    const m = routes.match(method, path);
    if (routeKey === null) expect(m).toBeNull();
    else expect(m).toEqual({ target: routeKey, routeKey, pathParameters });
  });

  it('passes decoded values through, including slashes and unicode', () => {
    const m = matcher(['GET /u/{name}', 'GET /f/{p+}']);
    expect(m.match('GET', '/u/café au lait')?.pathParameters).toEqual({ name: 'café au lait' });
    expect(m.match('GET', '/f/a b/ü')?.pathParameters).toEqual({ p: 'a b/ü' });
  });

  it('keeps __proto__ an ordinary parameter name', () => {
    const m = matcher(['GET /x/{__proto__}']).match('GET', '/x/1');
    expect(Object.keys(m?.pathParameters ?? {})).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(m?.pathParameters)).toBe(Object.prototype);
  });

  it('answers $default when nothing else matches, and null without it', () => {
    expect(matcher(['$default']).match('PATCH', '/any/thing')?.routeKey).toBe('$default');
    expect(matcher(['GET /a']).match('GET', '/b')).toBeNull();
  });
});

describe('route keys', () => {
  it('parses literals, params and greedy variables', () => {
    expect(parseRouteKey('ANY /a/{b}/{c+}')).toEqual({
      method: 'ANY',
      segments: [
        { kind: 'literal', value: 'a' },
        { kind: 'param', name: 'b' },
        { kind: 'greedy', name: 'c' },
      ],
    });
  });

  it.each([
    'get /a',
    'FETCH /a',
    'GET a',
    '/a',
    'GET /a/{b+}/c',
    'GET /a/x{b}',
    'GET /{a}/{a}',
    'GET /a b',
    'GET /a?x=1',
  ])('rejects %j', (key) => {
    let err: unknown;
    try {
      parseRouteKey(key);
    } catch (e) {
      err = e;
    }
    expect(isPlatformError(err, 'INVALID_REQUEST')).toBe(true);
  });

  it('rejects duplicate route keys', () => {
    expect(() => matcher(['GET /a', 'GET /a'])).toThrow(/duplicate/);
  });
});
