import { PlatformError } from './errors.js';

/**
 * Route keys and request matching of an API Gateway HTTP API: `"GET /items/{id}"`,
 * `"ANY /files/{proxy+}"`, `"$default"`. Routes are compiled once into a segment trie; a match walks
 * it in O(segments) for the usual route sets and allocates only the result.
 *
 * Precedence (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html):
 * 1. a route without a greedy variable whose path and method match; among several, the one with the
 *    more specific segment at the first position where they differ (literal > `{param}`);
 * 2. a route ending in a greedy `{name+}` variable, compared the same way (literal > `{param}` >
 *    greedy at each position, so a longer literal prefix wins);
 * 3. `$default`.
 * A specific method beats `ANY` on the same path. HEAD is not served by GET routes (HTTP APIs have no
 * implicit HEAD). A greedy variable matches one or more segments, never zero: `/a/{proxy+}` does not
 * match `/a` nor `/a/`, and `/{proxy+}` does not match `/`.
 *
 * Paths are matched as given (the gateway passes the percent-decoded path, as HTTP APIs route on it).
 * A trailing slash is an empty last segment, so `/items/` matches only a route written `/items/` (or a
 * greedy route above it): HTTP APIs do not fold trailing slashes the way REST APIs' resources do, and
 * a `{param}` never matches an empty segment.
 */

export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

export const DEFAULT_ROUTE_KEY = '$default';

export interface RouteDefinition<T> {
  readonly routeKey: string;
  readonly target: T;
}

export interface RouteMatch<T> {
  readonly target: T;
  readonly routeKey: string;
  /** Variable name → segment value; `null` when the route has no variables (the event omits them). */
  readonly pathParameters: Record<string, string> | null;
}

export interface RouteMatcher<T> {
  /** `path` starts with `/` and is already percent-decoded; `method` is upper-case. */
  match(method: string, path: string): RouteMatch<T> | null;
}

/** A parsed route key; `segments` excludes the leading empty segment before the first `/`. */
export interface ParsedRouteKey {
  readonly method: RouteMethod;
  readonly segments: readonly RouteSegment[];
}

export type RouteSegment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

const VARIABLE = /^\{([A-Za-z0-9_.:-]+)(\+?)\}$/;

/** Parses `"METHOD /path"`; throws `INVALID_REQUEST` for keys API Gateway would refuse. */
export function parseRouteKey(routeKey: string): ParsedRouteKey {
  const space = routeKey.indexOf(' ');
  const method = routeKey.slice(0, space);
  const path = routeKey.slice(space + 1);
  if (space <= 0 || !(ROUTE_METHODS as readonly string[]).includes(method)) {
    throw invalid(routeKey, `method must be one of ${ROUTE_METHODS.join(', ')}`);
  }
  if (!path.startsWith('/') || path.includes(' ') || path.includes('?') || path.includes('#')) {
    throw invalid(routeKey, 'path must start with "/" and contain no spaces, "?" or "#"');
  }
  const raw = path.slice(1).split('/');
  const names = new Set<string>();
  const segments = raw.map((segment, i): RouteSegment => {
    if (!segment.includes('{') && !segment.includes('}')) return { kind: 'literal', value: segment };
    const m = VARIABLE.exec(segment);
    if (!m) throw invalid(routeKey, `segment "${segment}" must be a literal or a whole {variable}`);
    const name = m[1] as string;
    if (names.has(name)) throw invalid(routeKey, `variable {${name}} appears twice`);
    names.add(name);
    if (m[2] !== '+') return { kind: 'param', name };
    if (i !== raw.length - 1) throw invalid(routeKey, 'a greedy {variable+} must be the last segment');
    return { kind: 'greedy', name };
  });
  return { method: method as RouteMethod, segments };
}

interface CompiledRoute<T> {
  readonly target: T;
  readonly routeKey: string;
  /** Names of the `{param}` segments, in path order. */
  readonly paramNames: readonly string[];
  readonly greedyName: string | null;
}

/** The routes ending at one trie node, by method. */
interface Terminal<T> {
  readonly methods: Map<string, CompiledRoute<T>>;
  any: CompiledRoute<T> | null;
}

interface TrieNode<T> {
  literals: Map<string, TrieNode<T>> | null;
  param: TrieNode<T> | null;
  /** Routes whose path ends at this node. */
  end: Terminal<T> | null;
  /** Routes whose greedy variable starts at this node's depth. */
  greedy: Terminal<T> | null;
}

/**
 * Compiles `routes` once (at deploy time). Throws `INVALID_REQUEST` on a malformed or duplicate
 * route key.
 */
export function compileRoutes<T>(routes: readonly RouteDefinition<T>[]): RouteMatcher<T> {
  const root: TrieNode<T> = newNode();
  // Literal-only paths, for a one-lookup answer to the most common request shape.
  const statics = new Map<string, Terminal<T>>();
  let fallback: CompiledRoute<T> | null = null;
  let hasGreedy = false;
  const seen = new Set<string>();

  for (const { routeKey, target } of routes) {
    if (seen.has(routeKey)) throw invalid(routeKey, 'duplicate route key');
    seen.add(routeKey);
    if (routeKey === DEFAULT_ROUTE_KEY) {
      fallback = { target, routeKey, paramNames: [], greedyName: null };
      continue;
    }
    const { method, segments } = parseRouteKey(routeKey);
    const paramNames: string[] = [];
    let greedyName: string | null = null;
    let node = root;
    let literalOnly = true;
    for (const segment of segments) {
      if (segment.kind === 'literal') {
        node.literals ??= new Map();
        let next = node.literals.get(segment.value);
        if (!next) node.literals.set(segment.value, (next = newNode()));
        node = next;
      } else if (segment.kind === 'param') {
        literalOnly = false;
        paramNames.push(segment.name);
        node = node.param ??= newNode();
      } else {
        literalOnly = false;
        greedyName = segment.name;
      }
    }
    const route: CompiledRoute<T> = { target, routeKey, paramNames, greedyName };
    let terminal: Terminal<T>;
    if (greedyName !== null) {
      hasGreedy = true;
      terminal = node.greedy ??= newTerminal();
    } else {
      terminal = node.end ??= newTerminal();
      if (literalOnly) statics.set(routeKeyPath(routeKey), terminal);
    }
    if (method === 'ANY') terminal.any = route;
    else terminal.methods.set(method, route);
  }

  return {
    match(method, path) {
      const terminal = statics.get(path);
      if (terminal) {
        const route = pick(terminal, method);
        if (route) return { target: route.target, routeKey: route.routeKey, pathParameters: null };
      }
      if (root.literals !== null || root.param !== null || hasGreedy) {
        const found = search(root, path.slice(1).split('/'), method, path);
        if (found) return found;
      }
      return fallback && { target: fallback.target, routeKey: fallback.routeKey, pathParameters: null };
    },
  };
}

interface GreedyHit<T> {
  readonly route: CompiledRoute<T>;
  readonly captured: number[];
  /** Index of the first segment the greedy variable takes. */
  readonly from: number;
}

interface Search<T> {
  readonly segments: string[];
  readonly method: string;
  /** Indexes of the segments taken by `{param}`s on the current branch. */
  readonly captured: number[];
  greedy: GreedyHit<T> | null;
}

function search<T>(root: TrieNode<T>, segments: string[], method: string, path: string): RouteMatch<T> | null {
  const state: Search<T> = { segments, method, captured: [], greedy: null };
  const exact = walk(root, 0, state);
  if (exact) return { target: exact.target, routeKey: exact.routeKey, pathParameters: params(exact, segments, state.captured, path, -1) };
  const greedy = state.greedy;
  if (greedy === null) return null;
  return { target: greedy.route.target, routeKey: greedy.route.routeKey, pathParameters: params(greedy.route, segments, greedy.captured, path, greedy.from) };
}

/**
 * Depth-first, literal child before param child before this node's greedy routes: that order is the
 * precedence itself, so the first exact match met is the answer. The first greedy candidate met is
 * kept (candidates of a more specific branch are met first) and used only if no exact match exists.
 * Each trie node sits at one depth, so a walk visits a node at most once.
 */
function walk<T>(node: TrieNode<T>, i: number, s: Search<T>): CompiledRoute<T> | null {
  const { segments } = s;
  if (i === segments.length) return node.end && pick(node.end, s.method);
  const segment = segments[i] as string;
  const literal = node.literals?.get(segment);
  if (literal) {
    const route = walk(literal, i + 1, s);
    if (route) return route;
  }
  if (node.param && segment !== '') {
    s.captured.push(i);
    const route = walk(node.param, i + 1, s);
    if (route) return route;
    s.captured.pop();
  }
  // One or more segments remain; a lone empty one (a trailing slash) counts as zero.
  if (s.greedy === null && node.greedy && !(segment === '' && i === segments.length - 1)) {
    const route = pick(node.greedy, s.method);
    if (route) s.greedy = { route, captured: s.captured.slice(), from: i };
  }
  return null;
}

function params<T>(route: CompiledRoute<T>, segments: string[], captured: number[], path: string, greedyFrom: number): Record<string, string> | null {
  if (route.paramNames.length === 0 && route.greedyName === null) return null;
  const out: Record<string, string> = {};
  for (let k = 0; k < route.paramNames.length; k++) {
    define(out, route.paramNames[k] as string, segments[captured[k] as number] as string);
  }
  if (route.greedyName !== null) {
    let offset = 1; // past the leading '/'
    for (let k = 0; k < greedyFrom; k++) offset += (segments[k] as string).length + 1;
    define(out, route.greedyName, path.slice(offset));
  }
  return out;
}

function define(out: Record<string, string>, key: string, value: string): void {
  // Variable names come from route keys, but keep `__proto__` an ordinary key all the same.
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

function pick<T>(terminal: Terminal<T>, method: string): CompiledRoute<T> | null {
  return terminal.methods.get(method) ?? terminal.any;
}

function routeKeyPath(routeKey: string): string {
  return routeKey.slice(routeKey.indexOf(' ') + 1);
}

function newNode<T>(): TrieNode<T> {
  return { literals: null, param: null, end: null, greedy: null };
}

function newTerminal<T>(): Terminal<T> {
  return { methods: new Map(), any: null };
}

function invalid(routeKey: string, why: string): PlatformError<'INVALID_REQUEST'> {
  return new PlatformError('INVALID_REQUEST', `Invalid route key "${routeKey}": ${why}.`, { routeKey });
}
